"""Read models built from the event log (audit trails, tracking sheets, point-in-time history)."""
