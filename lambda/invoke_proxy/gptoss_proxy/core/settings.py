"""Proxy settings from its environment: routes, guardrail, limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True)
class Route:
    """Where requests for one client-visible model name go."""

    model: str
    backend: str  # "sagemaker" | "bedrock"
    target: str  # endpoint name or Bedrock model id
    inference_component: str | None = None
    fallback: str | None = None
    max_tokens: int | None = None
    max_reasoning_effort: str | None = None


@dataclass(frozen=True)
class Settings:
    routes: Mapping[str, Route]
    guardrail_id: str | None = None
    guardrail_version: str | None = None
    guardrail_stream_mode: str = "safe"
    guardrail_batch_chars: int = 1000
    max_body_bytes: int = 262_144
    context_tokens: int = 131_072
    default_max_tokens: int = 4096
    max_retries: int = 2
    backend_timeout_seconds: float = 300
    extra: Mapping[str, str] = field(default_factory=dict)
    #: who may ask for a route's fallback directly (``escalate``): account ids, IAM role/user ARNs, or "*"
    escalate_principals: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Reads ``GPTOSS_*`` variables (see the README). Raises ValueError on a bad routing table."""
        raw = json.loads(env.get("GPTOSS_ROUTES") or "{}")
        if not isinstance(raw, dict) or not raw:
            raise ValueError("GPTOSS_ROUTES must be a JSON object of model name -> route, with at least one route")
        routes = {}
        for name, r in raw.items():
            backend = r.get("backend")
            if backend not in ("sagemaker", "bedrock"):
                raise ValueError(f"GPTOSS_ROUTES[{name!r}].backend must be sagemaker or bedrock, got {backend!r}")
            target = r.get("endpoint_name") if backend == "sagemaker" else r.get("model_id")
            if not target:
                raise ValueError(f"GPTOSS_ROUTES[{name!r}] needs {'endpoint_name' if backend == 'sagemaker' else 'model_id'}")
            effort = r.get("max_reasoning_effort")
            if effort is not None and effort not in EFFORTS:
                raise ValueError(f"GPTOSS_ROUTES[{name!r}].max_reasoning_effort must be one of {', '.join(EFFORTS)}")
            routes[name] = Route(
                model=name,
                backend=backend,
                target=target,
                inference_component=r.get("inference_component"),
                fallback=r.get("fallback"),
                max_tokens=r.get("max_tokens"),
                max_reasoning_effort=effort,
            )
        for route in routes.values():
            if route.fallback is not None and route.fallback not in routes:
                raise ValueError(f"GPTOSS_ROUTES[{route.model!r}].fallback {route.fallback!r} is not a route")
        mode = env.get("GPTOSS_GUARDRAIL_STREAM_MODE", "safe")
        if mode not in ("safe", "fast"):
            raise ValueError(f"GPTOSS_GUARDRAIL_STREAM_MODE must be safe or fast, got {mode!r}")
        return cls(
            routes=routes,
            guardrail_id=env.get("GPTOSS_GUARDRAIL_ID") or None,
            guardrail_version=env.get("GPTOSS_GUARDRAIL_VERSION") or "DRAFT",
            guardrail_stream_mode=mode,
            max_body_bytes=int(env.get("GPTOSS_MAX_BODY_BYTES", 262_144)),
            default_max_tokens=int(env.get("GPTOSS_DEFAULT_MAX_TOKENS", 4096)),
            max_retries=int(env.get("GPTOSS_MAX_RETRIES", 2)),
            backend_timeout_seconds=float(env.get("GPTOSS_BACKEND_TIMEOUT_SECONDS", 300)),
            escalate_principals=tuple(p.strip() for p in env.get("GPTOSS_ESCALATE_PRINCIPALS", "").split(",") if p.strip()),
        )
