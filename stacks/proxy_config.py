"""How a region's models become the proxy's routes (names, default fallbacks and handoffs).

The proxy's, front door's and roles' settings are part of the one platform config (``stacks/config.py``); their
allowed values live in the constructs and the proxy core, which the config calls to check them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.config import RegionConfig


def route_names(region: "RegionConfig") -> dict[str, tuple[str, str]]:
    """Route name → (backend, model) for a region: the model's name, or ``<model>-bedrock`` when the same
    model is also hosted on SageMaker in that region."""
    routes = {m: ("sagemaker", m) for m in region.sagemaker_models}
    for m in region.bedrock_models:
        routes[f"{m}-bedrock" if m in routes else m] = ("bedrock", m)
    return routes


def default_fallbacks(region: "RegionConfig") -> dict[str, str]:
    """Small-model-first: every SageMaker route falls back to the largest Bedrock route of the region."""
    routes = route_names(region)
    bedrock = sorted((r for r, (b, _) in routes.items() if b == "bedrock"), key=lambda r: ("120b" in r, r))
    if not bedrock:
        return {}
    return {r: bedrock[-1] for r, (b, _) in routes.items() if b == "sagemaker"}


def default_handoffs(region: "RegionConfig") -> dict[str, str]:
    """Seed 002: where a region has both models, each gpt-oss-20b route may hand off to a gpt-oss-120b route (on
    the same backend when there is one, else the other)."""
    routes = route_names(region)
    large = {backend: name for name, (backend, model) in routes.items() if model == "gpt-oss-120b"}
    return {
        name: large.get(backend) or next(iter(large.values()))
        for name, (backend, model) in routes.items()
        if model == "gpt-oss-20b" and large
    }
