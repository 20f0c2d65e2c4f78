"""Schema translation between OpenAI's chat API and the two backends (both speak OpenAI chat bodies: the
JumpStart LMI/vLLM container with reasoning in a separate field, Bedrock with reasoning inline in tags)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from gptoss_proxy.core.reasoning import split_reasoning
from gptoss_proxy.core.request import ChatRequest
from gptoss_proxy.core.settings import Route


def backend_body(request: ChatRequest, stream: bool, route: Route | None = None) -> dict[str, Any]:
    """The body to send to ``route``'s backend (the requested route unless a fallback is called).

    Both backends take OpenAI Chat Completions fields: the vLLM server's ``ChatCompletionRequest``
    (vllm/entrypoints/openai/chat_completion/protocol.py: logprobs, top_logprobs, n, logit_bias, seed, stop,
    penalties, response_format → structured outputs) and Bedrock's OpenAI-format InvokeModel body (Bedrock user
    guide, "OpenAI models"; ``response_format`` for open-weight models per "Get validated JSON results from models").
    """
    route = route or request.route
    body = dict(request.body)
    body["messages"] = [_with_reasoning(m, route.backend) for m in body["messages"]]
    if route.backend == "bedrock":
        # Bedrock's OpenAI-format InvokeModel: `stream` must match the operation; no `model` field needed.
        body["max_completion_tokens"] = body.pop("max_tokens")
        body["stream"] = stream
        if stream:
            body["stream_options"] = {"include_usage": True}
    else:
        body["stream"] = stream
        if stream:
            body["stream_options"] = {"include_usage": True}
    return body


def _with_reasoning(message: dict, backend: str) -> dict:
    """Earlier reasoning (kept by ``request.reasoning_history`` on the current turn's tool-call steps) where each
    backend reads it. vLLM renders an assistant message's ``reasoning`` as a harmony analysis message
    (vllm/entrypoints/openai/parser/harmony_utils.py ``parse_chat_input_to_harmony_message``); releases before the
    rename read ``reasoning_content``, so both are sent (UNCONFIRMED(manual:lmi-reasoning-input) which one the JumpStart image's vLLM reads).
    Bedrock's OpenAI-format body documents no reasoning on input messages (Bedrock user guide, "OpenAI models"),
    so it is left out there rather than risk a ValidationException (UNCONFIRMED(manual:bedrock-reasoning-input) whether Bedrock would use it)."""
    text = message.get("reasoning_content")
    if message.get("role") != "assistant" or not text:
        return message
    out = {k: v for k, v in message.items() if k != "reasoning_content"}
    if backend == "sagemaker":
        out.update(reasoning=text, reasoning_content=text)
    return out


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def usage_of(raw: dict | None, reasoning_chars: int = 0) -> dict | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("prompt_tokens", 0))
    completion = int(raw.get("completion_tokens", 0))
    details = raw.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens")
    if reasoning is None and reasoning_chars:
        reasoning = max(1, round(reasoning_chars / 4))  # estimate when the backend does not count it
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(raw.get("total_tokens", prompt + completion)),
        "completion_tokens_details": {"reasoning_tokens": int(reasoning or 0)},
    }


def _choice(index: int, choice: Any, backend: str) -> tuple[dict, int]:
    """One backend choice → an OpenAI choice with reasoning in ``reasoning_content``; also its reasoning length."""
    if not isinstance(choice, dict):
        raise ValueError("the backend answered with a malformed choice")
    message = choice.get("message") or {}
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if backend == "bedrock" or "<reasoning>" in content:
        inline, content = split_reasoning(content)
        reasoning = reasoning + inline
    out_message: dict[str, Any] = {"role": "assistant", "content": content if content or not message.get("tool_calls") else None}
    if reasoning:
        out_message["reasoning_content"] = reasoning
    if message.get("tool_calls"):
        out_message["tool_calls"] = message["tool_calls"]
    out = {"index": choice.get("index", index), "message": out_message, "finish_reason": choice.get("finish_reason") or "stop", "logprobs": choice.get("logprobs")}
    return out, len(reasoning)


def completion_from_backend(raw: dict, request: ChatRequest, answered_by: str, backend: str | None = None) -> dict:
    """A backend chat.completion → OpenAI chat.completion (every choice; logprobs as the backend gave them)."""
    choices = raw.get("choices") if isinstance(raw, dict) else None
    if not isinstance(choices, list) or not choices:
        raise ValueError("the backend answered without choices")
    converted = [_choice(i, c, backend or request.route.backend) for i, c in enumerate(choices)]
    return {
        "id": new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answered_by,
        "choices": [c for c, _ in converted],
        "usage": usage_of(raw.get("usage"), sum(n for _, n in converted)),
        "system_fingerprint": None,
    }


def to_legacy_function_call(choice: dict) -> None:
    """For a request made with ``functions``: the first tool call as ``message.function_call`` (in place)."""
    message = choice["message"]
    calls = message.pop("tool_calls", None)
    if calls:
        message["function_call"] = {"name": calls[0]["function"]["name"], "arguments": calls[0]["function"].get("arguments", "")}
        if choice["finish_reason"] == "tool_calls":
            choice["finish_reason"] = "function_call"


def chunk(completion_id: str, model: str, created: int, delta: dict | None = None, finish_reason: str | None = None, usage: dict | None = None) -> dict:
    """One OpenAI chat.completion.chunk (``choices`` empty for the final usage chunk)."""
    body: dict[str, Any] = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model, "system_fingerprint": None}
    if usage is not None and delta is None:
        body["choices"] = []
        body["usage"] = usage
    else:
        body["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason, "logprobs": None}]
    return body
