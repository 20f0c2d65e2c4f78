"""Validation of OpenAI chat-completions requests, with OpenAI's own messages and params."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from gptoss_proxy.core import budget as budgets
from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.settings import EFFORTS, Route, Settings

#: Every field of OpenAI's Chat Completions request (openai-python 2.54 `CompletionCreateParamsBase`,
#: openai/types/chat/completion_create_params.py), plus our one extension. Anything else is a 400 naming it.
OPENAI_FIELDS = {
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options",
}
#: sent by clients for their own bookkeeping and accepted by OpenAI on both APIs: codex-rs sends
#: ``client_metadata`` (string map, e.g. ``x-codex-installation-id``) on every Responses request
#: (openai/codex codex-rs/codex-api/src/common.rs, ``ResponseCreateWsRequest.client_metadata``)
CLIENT_FIELDS = {"client_metadata"}
#: escalate: ask for the route's fallback (larger) model; handoff: false opts out of model-initiated handoff
#: (core/handoff.py); reasoning / thinking: reasoning budgets, OpenRouter's and Anthropic-style (core/budget.py)
EXTENSIONS = {"escalate", "handoff", "reasoning", "thinking"}
KNOWN_FIELDS = OPENAI_FIELDS | EXTENSIONS | CLIENT_FIELDS
#: accepted and ignored: they steer OpenAI's own service (tiers, prompt caching, storage, abuse tracking, GPT-5
#: verbosity, predicted outputs) and change nothing about what gpt-oss answers here
IGNORED_FIELDS = (
    "metadata", "user", "store", "service_tier", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "safety_identifier", "verbosity", "prediction", "client_metadata",
)
#: fields only the vLLM (SageMaker) backend honours; Bedrock's gpt-oss routes answer 400 when they are used
VLLM_ONLY = ("logprobs", "top_logprobs", "n", "logit_bias")
#: OpenAI reasoning efforts gpt-oss does not have, mapped to the nearest one it has (it always reasons)
EFFORT_ALIASES = {"none": "low", "minimal": "low", "xhigh": "high", "max": "high"}
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
    handoff: bool = True  # the small model may hand off (when its route has a handoff)
    budget: budgets.Budget | None = None  # the reasoning budget enforced on the model's stream
    legacy_functions: bool = False  # asked with `functions`: answer with `function_call`, not `tool_calls`

    def vllm_only_fields(self) -> list[str]:
        """The fields of this request only a vLLM (SageMaker) route can honour."""
        return [k for k in VLLM_ONLY if k in self.body]


def unsupported_on(route: Route, fields: list[str]) -> ProxyError | None:
    """The 400 for a request whose fields ``route`` cannot honour (None when it can)."""
    if route.backend == "sagemaker" or not fields:
        return None
    return _bad(
        f"Invalid '{fields[0]}': the model '{route.model}' is served by Amazon Bedrock, which does not offer "
        f"{', '.join(fields)}; use a SageMaker-served model for it.",
        fields[0],
        "unsupported_parameter",
    )


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
    if not tools:
        # `tools: []` with tool_choice "auto" or "none" asks for no tool: OpenAI accepts it (codex-rs sends it for
        # its compaction turn); the backends get neither field (vLLM refuses tool_choice without tools)
        body.pop("tools", None)
        if choice in ("auto", "none"):
            body.pop("tool_choice")
            choice = None
    if choice is not None and not tools:
        raise _bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice", "invalid_value")
    if choice is not None and not (choice in ("none", "auto", "required") or (isinstance(choice, dict) and choice.get("type") == "function")):
        raise _bad("Invalid 'tool_choice': expected 'none', 'auto', 'required' or a named function.", "tool_choice", "invalid_value")


def client_metadata(value: Any) -> None:
    """``client_metadata``: accepted and ignored (a client's own bookkeeping), but it must be an object of strings."""
    if value is not None and not (isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
        raise _bad("Invalid 'client_metadata': expected an object of string values.", "client_metadata", "invalid_type")


def reasoning_history(messages: list[dict]) -> None:
    """Earlier reasoning where harmony keeps it (in place): an assistant message's reasoning (``reasoning_content``,
    or ``reasoning``) stays on the messages after the last final answer — the tool-call steps of the current turn —
    and is dropped from that answer and everything before it. gpt-oss is trained this way (openai/harmony
    docs/format.md: analysis messages after tool calls stay until the final answer; vLLM does the same in
    ``auto_drop_analysis_messages``, vllm/entrypoints/openai/parser/harmony_utils.py)."""
    last_final = max((i for i, m in enumerate(messages) if m.get("role") == "assistant" and not m.get("tool_calls")), default=-1)
    for i, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        text = m.pop("reasoning_content", None)
        other = m.pop("reasoning", None)
        text = text if isinstance(text, str) and text else other if isinstance(other, str) else ""
        if i > last_final and text:
            m["reasoning_content"] = text


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


def _legacy_functions(body: dict) -> bool:
    """Maps the deprecated ``functions`` / ``function_call`` onto ``tools`` / ``tool_choice`` (in place)."""
    functions, call = body.pop("functions", None), body.pop("function_call", None)
    if functions is None:
        if call is not None:
            raise _bad("Invalid 'function_call': it is only allowed when 'functions' are specified.", "function_call", "invalid_value")
        return False
    if "tools" in body:
        raise _bad("Use either 'functions' (deprecated) or 'tools', not both.", "functions", "invalid_value")
    if not isinstance(functions, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in functions):
        raise _bad("Invalid 'functions': expected an array of {'name': ..., 'parameters': ...}.", "functions", "invalid_value")
    body["tools"] = [{"type": "function", "function": f} for f in functions]
    if call is not None:
        if call in ("none", "auto"):
            body["tool_choice"] = call
        elif isinstance(call, dict) and isinstance(call.get("name"), str):
            body["tool_choice"] = {"type": "function", "function": {"name": call["name"]}}
        else:
            raise _bad("Invalid 'function_call': expected 'none', 'auto' or {'name': ...}.", "function_call", "invalid_value")
    return True


def _legacy_messages(messages: Any) -> Any:
    """History written for ``functions``: an assistant ``function_call`` becomes a one-call ``tool_calls`` and the
    ``function`` message answering it a ``tool`` message with that call's id."""
    if not isinstance(messages, list) or not any(isinstance(m, dict) and (m.get("role") == "function" or "function_call" in m) for m in messages):
        return messages
    out, last_id = [], None
    for i, m in enumerate(messages):
        if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("function_call"), dict):
            last_id = f"call_legacy_{i}"
            m = {k: v for k, v in m.items() if k != "function_call"} | {"tool_calls": [{"id": last_id, "type": "function", "function": m["function_call"]}]}
        elif isinstance(m, dict) and m.get("role") == "function":
            m = {"role": "tool", "tool_call_id": last_id or f"call_legacy_{i}", "content": m.get("content")}
        out.append(m)
    return out


def _not_offered(body: dict) -> None:
    """Fields that ask for something this platform has no way to do (text only, no web search, guardrails
    instead of OpenAI moderation): a 400 naming the field rather than a silent no."""
    modalities = body.get("modalities")
    if modalities is not None and (not isinstance(modalities, list) or any(m != "text" for m in modalities)):
        raise _bad("Invalid 'modalities': gpt-oss produces text only; use [\"text\"] or leave it out.", "modalities", "unsupported_value")
    if "audio" in body:
        raise _bad("Invalid 'audio': gpt-oss produces text only.", "audio", "unsupported_parameter")
    if "web_search_options" in body:
        raise _bad("Invalid 'web_search_options': this platform has no web search; give the model a tool instead.", "web_search_options", "unsupported_parameter")
    if "moderation" in body:
        raise _bad("Invalid 'moderation': OpenAI moderation models are not available here; the platform's guardrail checks every request and answer.", "moderation", "unsupported_parameter")


def _response_format(fmt: Any) -> None:
    if fmt is None:
        return
    if not (isinstance(fmt, dict) and fmt.get("type") in ("text", "json_object", "json_schema")):
        raise _bad("Invalid 'response_format.type': supported values are 'text', 'json_object' and 'json_schema'.", "response_format.type", "invalid_value")
    if fmt["type"] == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise _bad("Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name", "missing_required_parameter")
        if "schema" in spec and not isinstance(spec["schema"], dict):
            raise _bad("Invalid type for 'response_format.json_schema.schema': expected an object (a JSON Schema).", "response_format.json_schema.schema", "invalid_type")
        if "strict" in spec and spec["strict"] is not None and not isinstance(spec["strict"], bool):
            raise _bad("Invalid type for 'response_format.json_schema.strict': expected a boolean.", "response_format.json_schema.strict", "invalid_type")


def _sampling_extras(body: dict, stream: bool) -> None:
    """logprobs / top_logprobs / n / logit_bias: OpenAI's rules; ``body`` keeps only values that ask for something."""
    logprobs = body.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise _bad("Invalid type for 'logprobs': expected a boolean.", "logprobs", "invalid_type")
    _number(body, "top_logprobs", 0, 20, integer=True)
    if body.get("top_logprobs") == 0 and not logprobs:
        body.pop("top_logprobs")  # asks for nothing
    if "top_logprobs" in body and not logprobs:
        raise _bad("Invalid 'top_logprobs': 'logprobs' must be true when 'top_logprobs' is used.", "top_logprobs", "invalid_value")
    if logprobs and stream:
        raise _bad("Invalid 'logprobs': log probabilities are returned only without streaming here.", "logprobs", "unsupported_value")
    _number(body, "n", 1, 128, integer=True)
    if body.get("n", 1) > 1 and stream:
        raise _bad("Invalid 'n': several choices are returned only without streaming here.", "n", "unsupported_value")
    bias = body.get("logit_bias")
    if bias is not None and not (isinstance(bias, dict) and all(isinstance(v, (int, float)) and not isinstance(v, bool) and -100 <= v <= 100 for v in bias.values())):
        raise _bad("Invalid 'logit_bias': expected an object of token id -> bias between -100 and 100.", "logit_bias", "invalid_value")
    for key, unset in (("logprobs", False), ("n", 1), ("logit_bias", {})):  # defaults ask for nothing
        if body.get(key) == unset:
            body.pop(key)


def validate(body: dict, settings: Settings, escalate_header: bool = False, consumer: str = "") -> ChatRequest:
    """Checks every honoured field, applies the route's caps, and returns the normalized request."""
    unknown = sorted(k for k in body if k not in KNOWN_FIELDS)
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")
    client_metadata(body.get("client_metadata"))
    body = {k: v for k, v in body.items() if v is not None and k not in IGNORED_FIELDS}  # null means absent
    legacy = _legacy_functions(body)
    if "messages" in body:
        body["messages"] = _legacy_messages(body["messages"])
    _not_offered(body)
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
    reasoning_history(messages)
    _tools(body)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "frequency_penalty", -2, 2)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "seed", -(2**63), 2**63 - 1, integer=True)
    _number(body, "max_tokens", 1, settings.context_tokens, integer=True)
    _number(body, "max_completion_tokens", 1, settings.context_tokens, integer=True)
    stop = body.get("stop")
    if stop is not None and not (isinstance(stop, str) or (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop))):
        raise _bad("Invalid 'stop': expected a string or an array of at most 4 strings.", "stop", "invalid_value")
    _response_format(body.get("response_format"))
    budget, budget_effort = budgets.parse(body)
    if budget is not None and body.get("n", 1) != 1:
        raise _bad("Invalid 'n': reasoning budgets are enforced on one choice; send n=1.", "n", "unsupported_value")
    effort = body.get("reasoning_effort")
    effort = EFFORT_ALIASES.get(effort, effort) if isinstance(effort, str) else effort
    if effort is not None and effort not in EFFORTS:
        raise _bad(f"Invalid value for 'reasoning_effort': {effort!r}; supported values are: {', '.join(EFFORTS)} (and OpenAI's {', '.join(EFFORT_ALIASES)}, mapped to the nearest).", "reasoning_effort", "invalid_value")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
    _sampling_extras(body, stream)
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
    handoff = body.get("handoff", True)
    if not isinstance(handoff, bool):
        raise _bad("Invalid type for 'handoff': expected a boolean.", "handoff", "invalid_type")

    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or settings.default_max_tokens
    if route.max_tokens:
        max_tokens = min(max_tokens, route.max_tokens)
    budget = budgets.for_route(budget, route)
    effort = effort or budget_effort or (budgets.effort_for(budget) if budget else "medium")
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
    passed = ("temperature", "top_p", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "frequency_penalty", "presence_penalty", *VLLM_ONLY)
    normalized = {k: body[k] for k in passed if body.get(k) is not None}
    normalized.update(messages=messages, max_tokens=max_tokens, reasoning_effort=effort)
    request = ChatRequest(
        body=normalized,
        route=route,
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
        escalate=escalate or escalate_header,
        estimated_prompt_tokens=estimated,
        handoff=handoff,
        budget=budget,
        legacy_functions=legacy,
    )
    refused = unsupported_on(route, request.vllm_only_fields())
    if refused is not None:
        raise refused
    return request
