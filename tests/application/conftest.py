"""The API fixtures, for the purge's GraphQL entry points."""

from tests.graphql_api.conftest import api, token_settings

__all__ = ["api", "token_settings"]
