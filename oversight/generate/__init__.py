"""The one generator of synthetic authorities, and the demo authorities made with it.

``authority``: ``AuthorityGenerator`` yields a deterministic authority's commands in
time order for a pack, seed, scale and last day (ADR 0015); every shape rule lives there.
``demo``: the demo authorities, one per pack, as configurations of it (a demo scale),
seeding them and summarising them (``oversight demo seed`` and ``demo summary``).
"""

from oversight.generate.authority import DEFAULT_UNTIL, SCALES, AuthorityGenerator, Scale
from oversight.generate.demo import DEMO_AUTHORITIES, DEMO_AUTHORITY, DemoAuthority

__all__ = [
    "DEFAULT_UNTIL",
    "DEMO_AUTHORITIES",
    "DEMO_AUTHORITY",
    "SCALES",
    "AuthorityGenerator",
    "DemoAuthority",
    "Scale",
]
