"""The cdk-nag packs as they describe themselves: ids from ``readPackName``, JS class names from the Python
classes (jsii keeps them), and each rule's control mapping from its own ``info`` text."""

from __future__ import annotations

import re
from functools import lru_cache

SEVERITIES = ("error", "warning", "info")
#: which compliance framework each pack's "Control IDs" belong to
FRAMEWORKS = {"HIPAA.Security": "HIPAA", "NIST.800.53.R5": "NIST 800-53 r5", "PCI.DSS.321": "PCI DSS 3.2.1"}


@lru_cache(maxsize=1)
def packs() -> dict[str, str]:
    """pack id (``NIST.800.53.R5``) -> JS class name (``NIST80053R5Checks``), in the app's order."""
    from stacks.compliance import nag_plugins

    return {plugin.read_pack_name: type(plugin).__name__ for plugin in nag_plugins()}


def controls_of(info: str | None) -> list[str]:
    """``"... - (Control IDs: 164.308(a)(1)(ii)(D), 164.312(b))."`` -> ``["164.308(a)(1)(ii)(D)", "164.312(b)"]`` (some rules say "Control ID:")."""
    if not info:
        return []
    match = re.search(r"\(Control IDs?: (.*)\)\.?", info)
    if not match:
        return []
    # the list ends at the first ")" that closes "(Control IDs:" - i.e. where parentheses balance
    text, depth, end = match.group(1), 0, None
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                end = i
                break
            depth -= 1
    text = text if end is None else text[:end]
    return [c.strip() for c in text.split(",") if c.strip()]
