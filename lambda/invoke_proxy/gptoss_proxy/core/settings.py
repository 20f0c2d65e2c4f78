"""The proxy's settings and their one codec: ``Settings.to_env()`` writes them, ``Settings.from_env()`` reads them.

This module is the one place where a setting's name, default and allowed values are written. The
``InvokeProxy`` construct builds these same objects (it imports this file from the asset package
``gptoss_invoke_proxy_asset``) and puts ``to_env()`` in the function's environment; the Lambda reads it back with
``from_env()``. A new setting is one field with a default on ``Settings`` (plus ``metadata=one_of(...)`` or
``between(...)`` when it has allowed values); its variable is ``GPTOSS_<FIELD NAME>``. Only values that differ
from the default are written, so the default lives here and nowhere else.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

EFFORTS = ("low", "medium", "high")
BACKENDS = ("sagemaker", "bedrock")
STREAM_MODES = ("safe", "fast")
BUDGET_MODES = ("chat", "harmony")
CONTEXT_TOKENS = 131_072
PREFIX = "GPTOSS_"
ROUTES_VARIABLE = "GPTOSS_ROUTES"
#: where a route's target travels in GPTOSS_ROUTES, per backend
TARGET_KEYS = {"sagemaker": "endpoint_name", "bedrock": "model_id"}


def one_of(*allowed: str) -> dict:
    """Field metadata: the value (when set) must be one of ``allowed``."""
    return {"allowed": allowed}


def between(low: float, high: float) -> dict:
    """Field metadata: the value (when set) must be a number from ``low`` to ``high``."""
    return {"range": (low, high)}


def check(name: str, value: Any, metadata: Mapping[str, Any]) -> None:
    """Raises ValueError (naming ``name``, the value and what is allowed) when ``value`` breaks the field's rule."""
    if value is None:
        return
    allowed = metadata.get("allowed")
    if allowed is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    if "range" in metadata:
        low, high = metadata["range"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class Route:
    """Where requests for one client-visible model name go."""

    model: str
    backend: str = field(metadata=one_of(*BACKENDS))
    target: str  # endpoint name (sagemaker) or Bedrock model id (bedrock)
    inference_component: str | None = None
    fallback: str | None = None
    max_tokens: int | None = field(default=None, metadata=between(1, CONTEXT_TOKENS))
    max_reasoning_effort: str | None = field(default=None, metadata=one_of(*EFFORTS))
    #: another route's model that this route's model may hand a task to (seed 002; core/handoff.py)
    handoff: str | None = None
    #: reasoning budgets (seed 003; core/budget.py): the operator's cap on a request's budget, and the budget
    #: applied when a request sets none
    max_reasoning_tokens: int | None = field(default=None, metadata=between(1, CONTEXT_TOKENS))
    reasoning_tokens: int | None = field(default=None, metadata=between(1, CONTEXT_TOKENS))
    #: chat: budgets enforced on the chat stream (both backends); harmony: exact forcing on raw harmony prompts
    #: over the container's completions interface (SageMaker only; core/harmony.py, UNCONFIRMED(manual:harmony-completions) on the endpoint)
    budget_mode: str | None = field(default=None, metadata=one_of(*BUDGET_MODES))

    def __post_init__(self) -> None:
        for f in fields(self):
            check(f"route {self.model!r} {f.name}", getattr(self, f.name), f.metadata)
        if not self.target:
            raise ValueError(f"route {self.model!r} needs {TARGET_KEYS[self.backend]} (its {self.backend} target)")
        if self.budget_mode == "harmony" and self.backend != "sagemaker":
            raise ValueError(f"route {self.model!r} budget_mode 'harmony' needs raw prompts: sagemaker routes only, got {self.backend}")

    @classmethod
    def check_field(cls, name: str, value: Any, label: str | None = None) -> None:
        """Checks one field's value against its allowed values (for callers that hold it before a Route exists)."""
        check(label or name, value, {f.name: f for f in fields(cls)}[name].metadata)

    def to_json(self) -> dict[str, Any]:
        """The route's entry in GPTOSS_ROUTES: its fields that are set, the target under its backend's key."""
        out: dict[str, Any] = {"backend": self.backend, TARGET_KEYS[self.backend]: self.target}
        for f in fields(self):
            if f.name not in ("model", "backend", "target") and getattr(self, f.name) is not None:
                out[f.name] = getattr(self, f.name)
        return out

    @classmethod
    def from_json(cls, model: str, raw: Any) -> "Route":
        if not isinstance(raw, dict):
            raise ValueError(f"route {model!r} must be a JSON object, got {raw!r}")
        backend = raw.get("backend")
        if backend not in BACKENDS:
            raise ValueError(f"route {model!r} backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        target_key = TARGET_KEYS[backend]
        optional = {f.name for f in fields(cls)} - {"model", "backend", "target"}
        unknown = sorted(set(raw) - optional - {"backend", target_key})
        if unknown:
            allowed = ", ".join(["backend", target_key, *sorted(optional)])
            raise ValueError(f"route {model!r} has unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
        return cls(model=model, backend=backend, target=raw.get(target_key) or "", **{k: raw[k] for k in optional if k in raw})


@dataclass(frozen=True)
class Settings:
    """Everything the proxy is configured with. Defaults and allowed values are written only here."""

    routes: Mapping[str, Route]
    guardrail_id: str | None = None
    guardrail_version: str = "DRAFT"
    #: safe: streamed text is released after its batch passed the guardrail; fast: at once, cut on intervention
    guardrail_stream_mode: str = field(default="safe", metadata=one_of(*STREAM_MODES))
    guardrail_batch_chars: int = 1000
    #: characters of a streamed field's first guardrail batch (a fast first token; one more text unit per field
    #: and response); 0 = off: the first batch is as large as the others
    guardrail_first_batch_chars: int = field(default=48, metadata=between(0, 25_000))
    #: a 1 MiB prompt costs ~1,000 guardrail text units; Lambda's synchronous payload quota is 6 MB
    max_body_bytes: int = field(default=262_144, metadata=between(1024, 6_291_456))
    context_tokens: int = CONTEXT_TOKENS
    default_max_tokens: int = 4096
    max_retries: int = 2
    backend_timeout_seconds: float = 300
    #: who may ask for a route's fallback directly (``escalate``): account ids, IAM role/user ARNs, or "*";
    #: travels comma-separated. Default: nobody
    escalate_principals: tuple[str, ...] = ()
    #: handoffs per consumer per UTC day (per execution environment) after which the small model's answer
    #: stands; None: no cap
    handoff_daily_cap: int | None = field(default=None, metadata=between(0, 10**9))
    #: ``reasoning_effort: high`` on a route with a handoff goes to the handoff route directly
    handoff_on_high_effort: bool = False
    #: the KMS key (id or ARN) that seals reasoning for the Responses API's ``reasoning.encrypted_content``
    #: (core/sealed.py); None: encrypted reasoning is refused with a 400
    reasoning_key_id: str | None = None
    #: streams end with an error event and [DONE] this long before the request's deadline; retries plan within it
    deadline_margin_seconds: float = field(default=10, metadata=between(0, 300))

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError("routes must name at least one model route, got none")
        for name, route in self.routes.items():
            if name != route.model:
                raise ValueError(f"routes key {name!r} must be its route's model, got {route.model!r}")
            if route.fallback is not None and (route.fallback not in self.routes or route.fallback == name):
                others = [n for n in self.routes if n != name]
                raise ValueError(
                    f"route {name!r} fallback must be another route's model, one of {', '.join(others) or '(none)'}; "
                    f"got {route.fallback!r}"
                )
            if route.handoff is not None and (route.handoff not in self.routes or route.handoff == name):
                others = [n for n in self.routes if n != name]
                raise ValueError(
                    f"route {name!r} handoff must be another route's model, one of {', '.join(others) or '(none)'}; "
                    f"got {route.handoff!r}"
                )
        for f in _scalar_fields(type(self)):
            check(f.name, getattr(self, f.name), f.metadata)

    @classmethod
    def check_field(cls, name: str, value: Any, label: str | None = None) -> None:
        """Checks one setting's value against its allowed values (for callers that hold it before Settings exist)."""
        check(label or name, value, {f.name: f for f in fields(cls)}[name].metadata)

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of a setting: ``guardrail_stream_mode`` → ``GPTOSS_GUARDRAIL_STREAM_MODE``."""
        return PREFIX + name.upper()

    def to_env(self, dumps: Callable[[Any], str] = json.dumps) -> dict[str, str]:
        """The environment that ``from_env`` reads back into an equal ``Settings``: GPTOSS_ROUTES, plus one
        variable per setting whose value is not the default.

        :param dumps: JSON encoder for GPTOSS_ROUTES; a CDK construct passes ``Stack.of(self).to_json_string`` so
            that tokens (endpoint names) resolve at deploy time.
        """
        env = {ROUTES_VARIABLE: dumps({name: route.to_json() for name, route in self.routes.items()})}
        for f in _scalar_fields(type(self)):
            value = getattr(self, f.name)
            if value is not None and value != f.default:
                env[self.variable(f.name)] = _encode(value)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Reads ``GPTOSS_*`` variables (see the README); unset or empty ones take the default. Raises ValueError
        naming the variable or setting on a bad value."""
        try:
            raw = json.loads(env.get(ROUTES_VARIABLE) or "{}")
        except json.JSONDecodeError as err:
            raise ValueError(f"{ROUTES_VARIABLE} is not valid JSON ({err.msg})") from None
        if not isinstance(raw, dict) or not raw:
            raise ValueError(f"{ROUTES_VARIABLE} must be a JSON object of model name -> route, with at least one route")
        routes = {name: Route.from_json(name, r) for name, r in raw.items()}
        hints = typing.get_type_hints(cls)
        values = {}
        for f in _scalar_fields(cls):
            text = env.get(cls.variable(f.name))
            if text:
                values[f.name] = _decode(cls.variable(f.name), text, hints[f.name])
        return cls(routes=routes, **values)


def _scalar_fields(cls: type) -> list:
    return [f for f in fields(cls) if f.name != "routes"]


def _encode(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(variable: str, text: str, hint: Any) -> Any:
    kinds = [t for t in typing.get_args(hint) if t is not type(None)] if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else [hint]
    kind = kinds[0]
    if typing.get_origin(kind) is tuple:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{variable} must be true or false, got {text!r}")
        return text.lower() == "true"
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{variable} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    return text
