"""Renderers of the exports (issue 24): JSON, CSV and PDF."""
