"""Parsing context values: they arrive as JSON types (cdk.json) or strings (``-c key=value``).

Every error is a :class:`ConfigError` whose message starts ``context key '<key>': ``. Ranges and choices are not
written here: :func:`construct_rule` runs the construct's (or the proxy core's) own rule and names the key.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from gptoss_constructs._defaults import RETENTION_DAYS


class ConfigError(ValueError):
    """A context value is wrong; the message says which key, what value and what is allowed."""


def key_error(key: str, err: object) -> ConfigError:
    """The one shape of a config error: ``context key '<key>': <what is wrong>``."""
    return ConfigError(f"context key '{key}': {err}")


def decode(key: str, value: Any) -> Any:
    """``-c key=value`` gives strings; JSON-looking strings are decoded so both spellings work."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigError(f"context key '{key}': {value!r} is not valid JSON ({err.msg})") from None
    return value


def as_list(key: str, value: Any) -> list[str]:
    value = decode(key, value)
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise ConfigError(f"context key '{key}': expected a list of strings or a comma-separated string, got {value!r}")


def as_int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"context key '{key}': expected an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"context key '{key}': {value} is out of range; allowed: {low} to {high}")
    return value


def as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"context key '{key}': expected true or false, got {value!r}")


def as_choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"context key '{key}': {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def as_mapping(key: str, value: Any) -> dict:
    value = decode(key, value)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"context key '{key}': expected an object (JSON mapping), got {value!r}")
    return value


def optional(context: Callable[[str], Any], key: str, parse: Callable[[str, Any], Any]) -> Any:
    value = context(key)
    return None if value is None else parse(key, value)


def as_int32(key: str, value: Any) -> int:
    return as_int(key, value, -(2**31), 2**31 - 1)  # type only: the construct checks the range


def construct_rule(key: str, rule: Callable[[], Any]) -> Any:
    """Runs a construct's own validation of a value; its ValueError becomes a ConfigError naming the context key
    (each range or choice is written once, in the construct or the proxy core, and checked from here early)."""
    try:
        return rule()
    except ValueError as err:
        raise ConfigError(f"context key '{key}': {err}") from None


def retention_days(value: Any, key: str = "flow_log_retention") -> int:
    days = as_int(key, 400 if value is None else value, 1, 3653)
    if days not in RETENTION_DAYS:
        raise ConfigError(
            f"context key '{key}': {days} is not a CloudWatch Logs retention (days); "
            f"allowed: {', '.join(map(str, RETENTION_DAYS))}"
        )
    return days
