"""Guardrail policy files: a reviewer-editable YAML/JSON document, loaded into a typed, validated policy.

The schema mirrors the Bedrock CreateGuardrail API (the limits below are the service's own, from its API
model). Every error names the field path, the bad value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

PRESETS_DIR = Path(__file__).parent / "policies"

CONTENT_FILTER_TYPES = ("SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT", "PROMPT_ATTACK")
STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
FILTER_ACTIONS = ("BLOCK", "NONE")
PII_ACTIONS = ("BLOCK", "ANONYMIZE", "NONE")
TIERS = ("CLASSIC", "STANDARD")
PII_ENTITY_TYPES = (
    "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD", "PHONE",
    "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER", "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
)
MAX_TOPICS = 30
MAX_TOPIC_EXAMPLES = 5
MAX_REGEXES = 30
MAX_WORDS = 10000
_TOPIC_NAME = re.compile(r"[0-9a-zA-Z\-_ !?.]+")
TOP_LEVEL_KEYS = (
    "description", "blocked_input_message", "blocked_output_message", "tier", "content_filters", "denied_topics",
    "words", "profanity_filter", "pii_entities", "regexes", "contextual_grounding",
)


class PolicyError(ValueError):
    """A policy file is wrong; the message names the field path, the value and what is allowed."""


@dataclass(frozen=True)
class ContentFilter:
    type: str
    input_strength: str
    output_strength: str
    input_action: str = "BLOCK"
    output_action: str = "BLOCK"


@dataclass(frozen=True)
class DeniedTopic:
    name: str
    definition: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class PiiEntity:
    type: str
    action: str
    input_action: str | None = None
    output_action: str | None = None


@dataclass(frozen=True)
class RegexFilter:
    name: str
    pattern: str
    action: str
    description: str | None = None


@dataclass(frozen=True)
class GuardrailPolicy:
    """Everything a Bedrock guardrail enforces. Build with ``load_policy(...)`` or directly."""

    blocked_input_message: str
    blocked_output_message: str
    description: str = ""
    tier: str = "CLASSIC"
    content_filters: tuple[ContentFilter, ...] = ()
    denied_topics: tuple[DeniedTopic, ...] = ()
    words: tuple[str, ...] = ()
    profanity_filter: bool = False
    pii_entities: tuple[PiiEntity, ...] = ()
    regexes: tuple[RegexFilter, ...] = ()
    grounding_threshold: float | None = None
    relevance_threshold: float | None = None
    source: str = field(default="", compare=False)

    def fingerprint(self) -> str:
        """A short hash of everything enforced: it changes exactly when the policy changes."""
        data = asdict(self)
        data.pop("source")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


# ---- loading --------------------------------------------------------------------------------------------


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def resolve_policy_path(name_or_path: str, base_dir: Path | None = None) -> Path:
    """A preset name (``baseline``) or a file path (relative to ``base_dir``), as an existing file."""
    if "/" not in name_or_path and "." not in name_or_path:
        path = PRESETS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise PolicyError(f"unknown guardrail preset {name_or_path!r}; presets: {', '.join(preset_names())}, or give a policy file path")
        return path
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise PolicyError(f"guardrail policy file {name_or_path!r} does not exist (looked at {path})")
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise PolicyError(f"guardrail policy file {name_or_path!r} must end in .yaml, .yml or .json")
    return path


def load_policy(name_or_path: str, base_dir: Path | None = None) -> GuardrailPolicy:
    """Loads and validates a preset or a policy file."""
    path = resolve_policy_path(name_or_path, base_dir)
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise PolicyError(f"{path.name}: cannot be parsed: {str(err).splitlines()[0]}") from None
    try:
        return parse_policy(raw, source=str(path))
    except PolicyError as err:
        raise PolicyError(f"{path.name}: {err}") from None


def parse_policy(raw: Any, source: str = "") -> GuardrailPolicy:
    if not isinstance(raw, dict):
        raise PolicyError(f"the policy must be a mapping of {', '.join(TOP_LEVEL_KEYS)}, got {type(raw).__name__}")
    unknown = [k for k in raw if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise PolicyError(f"unknown field(s) {', '.join(map(str, unknown))}; allowed: {', '.join(TOP_LEVEL_KEYS)}")
    grounding = _mapping(raw.get("contextual_grounding"), "contextual_grounding", ("grounding_threshold", "relevance_threshold"))
    policy = GuardrailPolicy(
        description=_text(raw.get("description", ""), "description", 0, 200),
        blocked_input_message=_text(_required(raw, "blocked_input_message"), "blocked_input_message", 1, 500),
        blocked_output_message=_text(_required(raw, "blocked_output_message"), "blocked_output_message", 1, 500),
        tier=_choice(raw.get("tier", "CLASSIC"), "tier", TIERS),
        content_filters=tuple(_content_filter(f, f"content_filters[{i}]") for i, f in enumerate(_list(raw, "content_filters", 0, len(CONTENT_FILTER_TYPES)))),
        denied_topics=tuple(_topic(t, f"denied_topics[{i}]") for i, t in enumerate(_list(raw, "denied_topics", 0, MAX_TOPICS))),
        words=tuple(_text(w, f"words[{i}]", 1, 100) for i, w in enumerate(_list(raw, "words", 0, MAX_WORDS))),
        profanity_filter=_bool(raw.get("profanity_filter", False), "profanity_filter"),
        pii_entities=tuple(_pii(p, f"pii_entities[{i}]") for i, p in enumerate(_list(raw, "pii_entities", 0, len(PII_ENTITY_TYPES)))),
        regexes=tuple(_regex(r, f"regexes[{i}]") for i, r in enumerate(_list(raw, "regexes", 0, MAX_REGEXES))),
        grounding_threshold=_threshold(grounding.get("grounding_threshold"), "contextual_grounding.grounding_threshold"),
        relevance_threshold=_threshold(grounding.get("relevance_threshold"), "contextual_grounding.relevance_threshold"),
        source=source,
    )
    _unique([f.type for f in policy.content_filters], "content_filters", "type")
    _unique([t.name for t in policy.denied_topics], "denied_topics", "name")
    _unique([p.type for p in policy.pii_entities], "pii_entities", "type")
    _unique([r.name for r in policy.regexes], "regexes", "name")
    if not (policy.content_filters or policy.denied_topics or policy.words or policy.profanity_filter or policy.pii_entities
            or policy.regexes or policy.grounding_threshold is not None or policy.relevance_threshold is not None):
        raise PolicyError("the policy enforces nothing: configure at least one of content_filters, denied_topics, words, "
                          "profanity_filter, pii_entities, regexes, contextual_grounding")
    return policy


# ---- field rules ----------------------------------------------------------------------------------------


def _required(raw: Mapping, key: str) -> Any:
    if key not in raw:
        raise PolicyError(f"{key} is required")
    return raw[key]


def _text(value: Any, path: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{path} must be a string, got {value!r}")
    if not low <= len(value) <= high:
        raise PolicyError(f"{path} must be {low} to {high} characters, got {len(value)}")
    return value


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise PolicyError(f"{path} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{path} must be true or false, got {value!r}")
    return value


def _list(raw: Mapping, key: str, low: int, high: int) -> list:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise PolicyError(f"{key} must be a list, got {type(value).__name__}")
    if not low <= len(value) <= high:
        raise PolicyError(f"{key} may have at most {high} entries, got {len(value)}")
    return value


def _mapping(value: Any, path: str, keys: tuple[str, ...]) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(f"{path} must be a mapping with {', '.join(keys)}, got {value!r}")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise PolicyError(f"{path} has unknown field(s) {', '.join(map(str, unknown))}; allowed: {', '.join(keys)}")
    return value


def _threshold(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 0.99:
        raise PolicyError(f"{path} must be a number from 0 to 0.99, got {value!r}")
    return float(value)


def _unique(values: list[str], path: str, what: str) -> None:
    seen = {v for v in values if values.count(v) > 1}
    if seen:
        raise PolicyError(f"{path} lists the {what} {sorted(seen)[0]!r} more than once")


def _content_filter(raw: Any, path: str) -> ContentFilter:
    m = _mapping(raw, path, ("type", "input_strength", "output_strength", "input_action", "output_action"))
    f = ContentFilter(
        type=_choice(m.get("type"), f"{path}.type", CONTENT_FILTER_TYPES),
        input_strength=_choice(m.get("input_strength"), f"{path}.input_strength", STRENGTHS),
        output_strength=_choice(m.get("output_strength"), f"{path}.output_strength", STRENGTHS),
        input_action=_choice(m.get("input_action", "BLOCK"), f"{path}.input_action", FILTER_ACTIONS),
        output_action=_choice(m.get("output_action", "BLOCK"), f"{path}.output_action", FILTER_ACTIONS),
    )
    if f.type == "PROMPT_ATTACK" and f.output_strength != "NONE":
        raise PolicyError(f"{path}.output_strength must be NONE for PROMPT_ATTACK (it checks input only), got {f.output_strength!r}")
    return f


def _topic(raw: Any, path: str) -> DeniedTopic:
    m = _mapping(raw, path, ("name", "definition", "examples"))
    name = _text(m.get("name"), f"{path}.name", 1, 100)
    if not _TOPIC_NAME.fullmatch(name):
        raise PolicyError(f"{path}.name may use only letters, digits, space and -_!?. , got {name!r}")
    examples = m.get("examples") or []
    if not isinstance(examples, list) or len(examples) > MAX_TOPIC_EXAMPLES:
        raise PolicyError(f"{path}.examples must be a list of at most {MAX_TOPIC_EXAMPLES} strings, got {examples!r}")
    return DeniedTopic(
        name=name,
        definition=_text(m.get("definition"), f"{path}.definition", 1, 200),
        examples=tuple(_text(e, f"{path}.examples[{i}]", 1, 100) for i, e in enumerate(examples)),
    )


def _pii(raw: Any, path: str) -> PiiEntity:
    m = _mapping(raw, path, ("type", "action", "input_action", "output_action"))
    return PiiEntity(
        type=_choice(m.get("type"), f"{path}.type", PII_ENTITY_TYPES),
        action=_choice(m.get("action"), f"{path}.action", PII_ACTIONS),
        input_action=_choice(m["input_action"], f"{path}.input_action", PII_ACTIONS) if "input_action" in m else None,
        output_action=_choice(m["output_action"], f"{path}.output_action", PII_ACTIONS) if "output_action" in m else None,
    )


def _regex(raw: Any, path: str) -> RegexFilter:
    m = _mapping(raw, path, ("name", "pattern", "action", "description"))
    pattern = _text(m.get("pattern"), f"{path}.pattern", 1, 500)
    try:
        re.compile(pattern)
    except re.error as err:
        raise PolicyError(f"{path}.pattern is not a valid regular expression ({err}): {pattern!r}") from None
    return RegexFilter(
        name=_text(m.get("name"), f"{path}.name", 1, 100),
        pattern=pattern,
        action=_choice(m.get("action"), f"{path}.action", PII_ACTIONS),
        description=_text(m["description"], f"{path}.description", 1, 1000) if "description" in m else None,
    )
