"""Built-in detection rules, one module per family.

``RULES`` is the concatenation of the families' ``RULES`` in the order of :data:`FAMILIES`.
Adding a family is one new module with a ``RULES`` tuple and one line in :data:`FAMILIES`.
The order matters only for ties in nothing but speed: the hyperscan database gets one id per
rule, in this order (its cache file is keyed by the patterns, so a change recompiles it).
See ``_common.py`` for what a rule is.
"""

from __future__ import annotations

from . import ai, chat, cloud, code_hosts, commands, config_files, financial, generic, keys, network, personal, saas, secrets
from ._common import CASELESS, SOM, Handler, Rule
from .secrets import PEM_LIMIT

#: the family modules, in database order
FAMILIES = (
    network,
    personal,
    financial,
    secrets,
    cloud,
    code_hosts,
    chat,
    saas,
    ai,
    keys,
    generic,
    commands,
    config_files,
)

RULES: tuple[Rule, ...] = tuple(r for fam in FAMILIES for r in fam.RULES)

__all__ = ["CASELESS", "FAMILIES", "PEM_LIMIT", "RULES", "SOM", "Handler", "Rule"]
