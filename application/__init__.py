"""The application layer: the application service and its use cases.

``app`` runs commands exactly once (``OversightApplication.execute``); ``handlers`` says
which use case decides each command; each use-case group is a module named for what it
acts on (``registration``, ``workers``, ``children``, ``records``, ``access``,
``purge_plan``, and ``purge`` for a whole purge run); ``receipts``, ``batching``,
``cache`` and ``transcoding`` each hold one concern of running them. Adapters (the CLI,
the GraphQL API, schedulers) call these; the domain and the read models never import
them (import-linter contracts in pyproject.toml).
"""
