"""What ``pip install .`` puts in the distribution: every package of the six layers.

A hand-kept package list once left out four subpackages (the compliance read models,
the importers, the generator and the API's types): the editable install the Makefile
makes hid it, and a wheel built from it could not start the server."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("application", "domain", "projections", "graphql_api", "migrations", "oversight")


def test_every_package_of_the_six_layers_is_distributed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    distributed = set(find_namespace_packages(where=str(ROOT), include=find["include"]))
    packages = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for layer in LAYERS
        for path in (ROOT / layer).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert {"projections.compliance", "oversight.importers", "graphql_api.types"} <= packages
    assert packages <= distributed, sorted(packages - distributed)
    assert {p.split(".")[0] for p in distributed} == set(LAYERS)  # and nothing else


def test_the_licence_the_metadata_names_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert config["license"] == "Apache-2.0"
    assert config["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text().splitlines()[0]
