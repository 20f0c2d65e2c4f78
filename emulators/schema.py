"""A JSON value that validates against a JSON Schema: what the fake models answer when a request carries
``response_format: json_schema`` or a tool's ``parameters``, the way guided decoding (vLLM structured outputs)
constrains a real model to the schema.

Covers what OpenAI's strict structured outputs and pydantic's ``model_json_schema()`` produce: ``$ref`` into
``$defs`` / ``definitions``, ``anyOf`` / ``oneOf`` / ``allOf``, ``enum``, ``const``, type lists, objects
(required properties), arrays (``minItems`` / ``maxItems`` / ``prefixItems``), strings (``minLength``,
``maxLength``, common ``format``s), integers and numbers within their bounds, booleans and null.
"""

from __future__ import annotations

from typing import Any

#: what strings are filled with (a city keeps the tool examples readable)
TEXT = "Paris"
FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "ipv4": "192.0.2.1",
    "duration": "P1D",
}


def instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A value valid against ``schema`` (``root`` resolves ``$ref``s; recursion stops at depth 12)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 12:
        return TEXT if depth <= 12 else None
    if "$ref" in schema:
        return instance(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = schema[key]
            chosen = next((o for o in options if not (isinstance(o, dict) and o.get("type") == "null")), options[0])
            return instance(chosen, root, depth + 1)
    if schema.get("allOf"):
        return instance(_merge(schema["allOf"], root), root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: instance(properties.get(name, {}), root, depth + 1) for name in schema.get("required") or []}
    if kind == "array":
        prefix = schema.get("prefixItems") or []
        count = max(schema.get("minItems", 1), len(prefix))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [instance(prefix[i] if i < len(prefix) else items, root, depth + 1) for i in range(count)]
    if kind == "string":
        text = FORMATS.get(schema.get("format"), TEXT)
        text = text.ljust(schema.get("minLength", 0), "x")
        return text[: schema["maxLength"]] if "maxLength" in schema else text
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    return None


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref.lstrip("#/").split("/") if ref not in ("#", "#/") else []:
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _merge(schemas: list, root: Any) -> dict:
    merged: dict = {"type": "object", "properties": {}, "required": []}
    for s in schemas:
        s = _resolve(s["$ref"], root) if isinstance(s, dict) and "$ref" in s else s
        if not isinstance(s, dict):
            continue
        if s.get("type") not in (None, "object") or "properties" not in s:
            return s
        merged["properties"].update(s.get("properties") or {})
        merged["required"] += [r for r in s.get("required") or [] if r not in merged["required"]]
    return merged


def _number(schema: dict, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1 if integer else 1.5
    if low is not None:
        value = max(value, low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0))
    if high is not None and value > high:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    return int(value) if integer else float(value)
