"""Validation of OpenAI chat-completions requests, with OpenAI's own messages and params."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.settings import EFFORTS, Route, Settings

KNOWN_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "n",
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "stream",
    "stream_options", "user", "metadata", "frequency_penalty", "presence_penalty", "logit_bias", "store",
    "escalate",  # extension: ask for the route's fallback (larger) model
}
ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass
class ChatRequest:
    """A validated request: the normalized OpenAI body plus what the proxy decided about it."""

    body: dict[str, Any]
    route: Route
    stream: bool
    include_usage: bool
    escalate: bool
    estimated_prompt_tokens: int


def _bad(message: str, param: str | None = None, code: str | None = None) -> ProxyError:
    return ProxyError(400, message, param=param, code=code)


def parse_json(raw: bytes, settings: Settings) -> dict:
    if len(raw) > settings.max_body_bytes:
        raise ProxyError(413, f"Request body too large: {len(raw)} bytes; the limit is {settings.max_body_bytes} bytes.", code="request_too_large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise _bad(f"We could not parse the JSON body of your request. ({err.__class__.__name__}: {err})", code="invalid_json") from None
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.", code="invalid_json")
    return body


def _number(body: dict, key: str, low: float, high: float, integer: bool = False) -> None:
    value = body.get(key)
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise _bad(f"Invalid type for '{key}': expected {'an integer' if integer else 'a number'}, but got {type(value).__name__}.", key, "invalid_type")
    if not low <= value <= high:
        raise _bad(f"Invalid '{key}': {value} is out of range; it must be between {low} and {high}.", key, "invalid_value")


def _text_of(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise _bad(f"Invalid '{where}[{i}]': only text content parts are supported by gpt-oss.", f"{where}[{i}]", "invalid_value")
            parts.append(part["text"])
        return "".join(parts)
    if content is None:
        return ""
    raise _bad(f"Invalid type for '{where}': expected a string or an array of content parts.", where, "invalid_type")


def _messages(body: dict) -> list[dict]:
    messages = body.get("messages")
    if messages is None:
        raise _bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid 'messages': expected a non-empty array of messages.", "messages", "invalid_value")
    out = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise _bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        role = m.get("role")
        if role not in ROLES:
            raise _bad(f"Invalid value for '{where}.role': {role!r}; supported values are: {', '.join(ROLES)}.", f"{where}.role", "invalid_value")
        msg = dict(m)
        if "content" in m:
            msg["content"] = _text_of(m["content"], f"{where}.content")
        elif role != "assistant":
            raise _bad(f"Missing required parameter: '{where}.content'.", f"{where}.content", "missing_required_parameter")
        if role == "tool" and not isinstance(m.get("tool_call_id"), str):
            raise _bad(f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id", "missing_required_parameter")
        if role == "assistant" and "tool_calls" in m:
            calls = m["tool_calls"]
            if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(c.get("function"), dict) for c in calls):
                raise _bad(f"Invalid '{where}.tool_calls': expected an array of function tool calls.", f"{where}.tool_calls", "invalid_value")
        out.append(msg)
    return out


def _tools(body: dict) -> None:
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _bad("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for i, t in enumerate(tools or []):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _bad(f"Invalid 'tools[{i}]': expected {{'type': 'function', 'function': {{'name': ...}}}}.", f"tools[{i}]", "invalid_value")
    choice = body.get("tool_choice")
    if choice is not None and not tools and choice != "none":
        raise _bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice", "invalid_value")
    if choice is not None and not (choice in ("none", "auto", "required") or (isinstance(choice, dict) and choice.get("type") == "function")):
        raise _bad("Invalid 'tool_choice': expected 'none', 'auto', 'required' or a named function.", "tool_choice", "invalid_value")


def estimate_tokens(messages: list[dict], tools: Any) -> int:
    """A deliberately generous estimate (about 3.5 characters per token, o200k-like) made before any call."""
    chars = sum(len(json.dumps(m, ensure_ascii=False)) for m in messages) + (len(json.dumps(tools)) if tools else 0)
    return math.ceil(chars / 3.5)


def may_escalate(consumer: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``consumer`` (the caller's IAM ARN as the front door reports it) is in ``allowed``: ``*``, the exact
    ARN, its account id, or, for an assumed-role session ``arn:aws:sts::<acct>:assumed-role/<name>/<session>``,
    the role ``arn:aws:iam::<acct>:role/[<path>/]<name>``."""
    if "*" in allowed:
        return True
    if not consumer or consumer in allowed:
        return bool(consumer)
    parts = consumer.split(":", 5)
    if len(parts) < 6:
        return False
    partition, account, resource = parts[1], parts[4], parts[5]
    if account in allowed:
        return True
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        prefix = f"arn:{partition}:iam::{account}:role/"
        return any(a.startswith(prefix) and a.rsplit("/", 1)[-1] == role_name for a in allowed)
    return False


def validate(body: dict, settings: Settings, escalate_header: bool = False, consumer: str = "") -> ChatRequest:
    """Checks every honoured field, applies the route's caps, and returns the normalized request."""
    unknown = sorted(k for k in body if k not in KNOWN_FIELDS)
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    route = settings.routes.get(model)
    if route is None:
        raise ProxyError(
            404,
            f"The model '{model}' does not exist or you do not have access to it. Models here: {', '.join(sorted(settings.routes))}.",
            param="model",
            code="model_not_found",
        )
    messages = _messages(body)
    _tools(body)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "frequency_penalty", -2, 2)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "seed", -(2**63), 2**63 - 1, integer=True)
    _number(body, "max_tokens", 1, settings.context_tokens, integer=True)
    _number(body, "max_completion_tokens", 1, settings.context_tokens, integer=True)
    if body.get("n", 1) != 1:
        raise _bad("Invalid 'n': only n=1 is supported.", "n", "invalid_value")
    stop = body.get("stop")
    if stop is not None and not (isinstance(stop, str) or (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop))):
        raise _bad("Invalid 'stop': expected a string or an array of at most 4 strings.", "stop", "invalid_value")
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") in ("text", "json_object", "json_schema")):
        raise _bad("Invalid 'response_format.type': supported values are 'text', 'json_object' and 'json_schema'.", "response_format.type", "invalid_value")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise _bad(f"Invalid value for 'reasoning_effort': {effort!r}; supported values are: {', '.join(EFFORTS)}.", "reasoning_effort", "invalid_value")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
    options = body.get("stream_options")
    if options is not None and (not stream or not isinstance(options, dict)):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value")
    escalate = body.get("escalate", False)
    if not isinstance(escalate, bool):
        raise _bad("Invalid type for 'escalate': expected a boolean.", "escalate", "invalid_type")
    if (escalate or escalate_header) and not may_escalate(consumer, settings.escalate_principals):
        raise ProxyError(
            403,
            "You are not allowed to use 'escalate': the platform operator allows it only for configured principals.",
            param="escalate",
            code="escalate_not_allowed",
        )

    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or settings.default_max_tokens
    if route.max_tokens:
        max_tokens = min(max_tokens, route.max_tokens)
    effort = effort or "medium"
    if route.max_reasoning_effort and EFFORTS.index(effort) > EFFORTS.index(route.max_reasoning_effort):
        effort = route.max_reasoning_effort
    estimated = estimate_tokens(messages, body.get("tools"))
    if estimated + max_tokens > settings.context_tokens:
        raise _bad(
            f"This model's maximum context length is {settings.context_tokens} tokens. However, you requested about "
            f"{estimated + max_tokens} tokens ({estimated} in the messages, {max_tokens} in the completion). "
            "Please reduce the length of the messages or completion.",
            "messages",
            "context_length_exceeded",
        )
    normalized = {k: body[k] for k in ("temperature", "top_p", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "frequency_penalty", "presence_penalty") if body.get(k) is not None}
    normalized.update(messages=messages, max_tokens=max_tokens, reasoning_effort=effort)
    return ChatRequest(
        body=normalized,
        route=route,
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
        escalate=escalate or escalate_header,
        estimated_prompt_tokens=estimated,
    )
