"""The reviewed gpt-oss catalog: which model runs where, and on what.

The data lives in ``catalog/gpt_oss.json`` (one reviewed file, every value with its source); this module
loads it once and answers typed questions about it. Nothing here calls AWS.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

_CATALOG_FILE = Path(__file__).parent / "catalog" / "gpt_oss.json"


@dataclass(frozen=True)
class ModelInfo:
    """Where one gpt-oss model is offered."""

    name: str
    jumpstart_model_id: str
    bedrock_model_id: str
    jumpstart_regions: tuple[str, ...]
    bedrock_regions: tuple[str, ...]


@functools.cache
def _raw() -> Mapping:
    return json.loads(_CATALOG_FILE.read_text(encoding="utf-8"))


@functools.cache
def models() -> Mapping[str, ModelInfo]:
    """All models in the catalog by short name (``gpt-oss-20b``, ``gpt-oss-120b``)."""
    return {
        name: ModelInfo(
            name=name,
            jumpstart_model_id=m["jumpstart_model_id"],
            bedrock_model_id=m["bedrock_model_id"],
            jumpstart_regions=tuple(m["jumpstart_regions"]),
            bedrock_regions=tuple(m["bedrock_regions"]),
        )
        for name, m in _raw()["models"].items()
    }


def model_names() -> list[str]:
    return sorted(models())


def jumpstart_regions() -> list[str]:
    """Regions where SageMaker JumpStart offers at least one gpt-oss model."""
    return sorted({r for m in models().values() for r in m.jumpstart_regions})


def bedrock_regions() -> list[str]:
    """Regions where Amazon Bedrock serves at least one gpt-oss model in-region."""
    return sorted({r for m in models().values() for r in m.bedrock_regions})


def supported_regions() -> list[str]:
    """Regions where the platform can serve some gpt-oss model (SageMaker or Bedrock)."""
    return sorted(set(jumpstart_regions()) | set(bedrock_regions()))


def default_availability_zones(region: str) -> list[str] | None:
    """AZ names to use when an explicit account is configured, or None when the catalog has none."""
    azs = _raw()["availability_zones"].get(region)
    return list(azs) if azs else None
