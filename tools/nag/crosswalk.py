"""PCI DSS v3.2.1 -> v4.0: cdk-nag's PCI pack and the Guard Rules Registry's PCI rule set name v3.2.1
requirements (retired 2024-03-31); the register and reports show v4.0 ids through the maintained crosswalk
``compliance/pci-dss-v3.2.1-to-v4.0.yaml`` (its source and the basis of each row are in the file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CROSSWALK = ROOT / "compliance" / "pci-dss-v3.2.1-to-v4.0.yaml"


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    return yaml.safe_load(CROSSWALK.read_text())


def mappings() -> dict[str, dict[str, Any]]:
    return data()["mappings"]


def unmapped(ids: str | list[str]) -> list[str]:
    items = [i.strip() for i in (ids.split(";") if isinstance(ids, str) else ids) if i.strip()]
    return [i for i in items if i not in mappings()]


def to_v4(ids: str | list[str]) -> str:
    """``"10.5.3; 2.2"`` -> ``"10.3.3; 2.2.1"`` (sorted, de-duplicated); unknown ids are kept as ``?<id>``."""
    items = [i.strip() for i in (ids.split(";") if isinstance(ids, str) else ids) if i.strip()]
    out: set[str] = set()
    for i in items:
        out.update(mappings().get(i, {}).get("v4") or [f"?{i}"])
    return "; ".join(sorted(out, key=_order))


def _order(req: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in req.lstrip("?").split("."))
