"""Policy as data: each authority's supervision rules (packs), and the calendar they count in."""
