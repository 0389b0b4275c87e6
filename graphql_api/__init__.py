"""The GraphQL adapter (strawberry on Starlette): a thin layer over commands and read models."""
