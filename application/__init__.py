"""The application layer: use cases that span the domain, the read models and storage.

Each use-case group is a module named for it (``purge``). Adapters (the CLI, the
GraphQL API, schedulers) call these; the domain and the read models never import them.
"""
