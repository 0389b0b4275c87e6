"""Process entry points: settings, wiring, the event-store adapters and the ``oversight`` CLI.

Kept apart from ``domain/`` (which imports no database driver) and from the read side
(``projections/``) and the API (``graphql_api/``); see ADR 0001.
"""
