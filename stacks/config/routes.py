"""Routes: how a region's models become the proxy's routes (names, default fallbacks and handoffs), and the
``routes`` key that changes their options.

The options' allowed values live in the proxy core (``Route.check_field``), which this module calls.
"""

from __future__ import annotations

from typing import Any, Mapping

from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Route
from stacks.config.model import RegionConfig
from stacks.config.parse import ConfigError, as_int32, as_mapping, construct_rule

#: the fields of one entry of ``routes`` (``ProxyRoute`` options)
ROUTE_OPTIONS = ("fallback", "max_tokens", "max_reasoning_effort", "handoff", "max_reasoning_tokens", "reasoning_tokens", "budget_mode")


def route_names(region: RegionConfig) -> dict[str, tuple[str, str]]:
    """Route name → (backend, model) for a region: the model's name, or ``<model>-bedrock`` when the same
    model is also hosted on SageMaker in that region."""
    routes = {m: ("sagemaker", m) for m in region.sagemaker_models}
    for m in region.bedrock_models:
        routes[f"{m}-bedrock" if m in routes else m] = ("bedrock", m)
    return routes


def default_fallbacks(region: RegionConfig) -> dict[str, str]:
    """Small-model-first: every SageMaker route falls back to the largest Bedrock route of the region."""
    routes = route_names(region)
    bedrock = sorted((r for r, (b, _) in routes.items() if b == "bedrock"), key=lambda r: ("120b" in r, r))
    if not bedrock:
        return {}
    return {r: bedrock[-1] for r, (b, _) in routes.items() if b == "sagemaker"}


def default_handoffs(region: RegionConfig) -> dict[str, str]:
    """Seed 002: where a region has both models, each gpt-oss-20b route may hand off to a gpt-oss-120b route (on
    the same backend when there is one, else the other)."""
    routes = route_names(region)
    large = {backend: name for name, (backend, model) in routes.items() if model == "gpt-oss-120b"}
    return {
        name: large.get(backend) or next(iter(large.values()))
        for name, (backend, model) in routes.items()
        if model == "gpt-oss-20b" and large
    }


def parse_routes(value: Any) -> dict[str, dict[str, Any]]:
    """``routes``: route name → {fallback, max_tokens, max_reasoning_effort}; values checked by the proxy's Route."""
    routes = {}
    for name, options in as_mapping("routes", value).items():
        key = f"routes.{name}"
        if not isinstance(options, dict) or set(options) - set(ROUTE_OPTIONS):
            raise ConfigError(f"context key '{key}': expected an object with {', '.join(ROUTE_OPTIONS)}, got {options!r}")
        parsed = dict(options)
        for option in ("fallback", "handoff"):
            if parsed.get(option) is not None and not isinstance(parsed[option], str):
                raise ConfigError(f"context key '{key}.{option}': expected a route name or null, got {parsed[option]!r}")
        for option in ("max_tokens", "max_reasoning_tokens", "reasoning_tokens"):
            if option in parsed:
                parsed[option] = as_int32(f"{key}.{option}", parsed[option])
        for option in ("max_tokens", "max_reasoning_effort", "max_reasoning_tokens", "reasoning_tokens", "budget_mode"):
            if option in parsed:
                construct_rule(f"{key}.{option}", lambda o=option: Route.check_field(o, parsed[o], f"route {name!r} {o}"))
        routes[name] = parsed
    return routes


def check_routes(routes: Mapping[str, Mapping[str, Any]], regions: Mapping[str, RegionConfig]) -> None:
    """Route names in ``routes`` must be routes of some configured region, and a fallback must be another route
    of every region that has the route."""
    names_by_region = {region: route_names(rc) for region, rc in regions.items()}
    all_names = sorted({n for names in names_by_region.values() for n in names})
    for route, options in routes.items():
        if route not in all_names:
            raise ConfigError(
                f"context key 'routes': {route!r} is not a route in any configured region; routes: {', '.join(all_names)}"
            )
        for option in ("fallback", "handoff"):
            target = options.get(option)
            if target is None:
                continue
            for region, names in names_by_region.items():
                if route in names and (target not in names or target == route):
                    others = [n for n in names if n != route]
                    raise ConfigError(
                        f"context key 'routes.{route}.{option}': {target!r} is not another route in {region}; "
                        f"routes there: {', '.join(others) or '(none)'}"
                    )
