"""Model-initiated handoff (seed 002): the small model may hand a task to a larger model.

A route with ``handoff`` set (by default gpt-oss-20b → gpt-oss-120b where a region has both) offers its model one
extra function tool, ``HANDOFF_TOOL``. When the model calls it before any answer text was released, the proxy sends
the original conversation to the handoff route, with the small model's one-line reason as a developer note, and
returns that route's answer. The tool never reaches the client: it is added after the input guardrail check (it
is our text, not the caller's) and removed from every answer.

Controls (all here, pure): per route (``Route.handoff``), per request (``"handoff": false`` in the body or the
header ``x-gptoss-handoff: off``), an operator cap per consumer per UTC day (``Settings.handoff_daily_cap``;
counted per execution environment, see ``HandoffCounter``) after which the tool is not offered and the small
model's own answer stands, and ``Settings.handoff_on_high_effort``: ``reasoning_effort: high`` goes to the handoff
route directly.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from gptoss_proxy.core.request import ChatRequest
from gptoss_proxy.core.settings import EFFORTS, Route, Settings

HANDOFF_TOOL = "handoff_to_larger_model"
HANDOFF_DESCRIPTION = (
    "Hand this whole task to a larger, more capable model, which then answers the user instead of you. Call it only "
    "when the task is beyond what you can do well (hard multi-step reasoning, deep expertise, long synthesis); "
    "otherwise answer yourself. Give a one-line reason."
)
HANDOFF_TOOL_DEFINITION = {
    "type": "function",
    "function": {
        "name": HANDOFF_TOOL,
        "description": HANDOFF_DESCRIPTION,
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "One line: why a larger model should answer."}},
            "required": ["reason"],
        },
    },
}
#: the reason as it travels in a response header: one line, at most this many characters
REASON_HEADER_CHARS = 200
WITHHELD_REASON = "(the reason was withheld by the content policy)"
HIGH_EFFORT_REASON = "reasoning_effort high (operator: hand off directly)"
NOTE = "A smaller model handed this conversation to you because: {reason}. Answer the user directly."


def opted_out(headers: Mapping[str, str]) -> bool:
    """The caller's per-request opt-out by header, ``x-gptoss-handoff: off`` (the body's ``"handoff": false`` is
    read by ``validate``)."""
    return str(headers.get("x-gptoss-handoff", "")).strip().lower() in ("off", "false", "0", "no")


class HandoffCounter:
    """Handoffs per consumer per UTC day, for the operator's cap.

    The count lives in this process: a Lambda execution environment counts its own handoffs, so with N warm
    environments a consumer can get up to N × cap in a day. A cap across environments needs a shared counter
    (DynamoDB); this one bounds cost per environment and costs nothing.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._day = ""
        self._counts: dict[str, int] = {}

    def _today(self) -> str:
        day = time.strftime("%Y-%m-%d", time.gmtime(self.clock()))
        if day != self._day:
            self._day, self._counts = day, {}
        return day

    def count(self, consumer: str) -> int:
        with self._lock:
            self._today()
            return self._counts.get(consumer, 0)

    def allowed(self, consumer: str, cap: int | None) -> bool:
        return cap is None or self.count(consumer) < cap

    def add(self, consumer: str) -> None:
        with self._lock:
            self._today()
            self._counts[consumer] = self._counts.get(consumer, 0) + 1


def structured(body: dict) -> bool:
    """A structured-output request (``response_format`` json_object / json_schema): the model server constrains the
    output to the format (vLLM guided decoding), so it could not call a tool; the handoff tool is not offered."""
    return (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")


def target_of(request: ChatRequest, settings: Settings) -> Route | None:
    """The route this request may hand off to, or None (no handoff on the route, escalated, or opted out)."""
    if request.escalate or not request.handoff or not request.route.handoff:
        return None
    return settings.routes.get(request.route.handoff)


def offer(body: dict) -> dict:
    """The backend body with the handoff tool offered next to the client's tools (client tools stay first).

    Not offered when the client forbids tools (``tool_choice: none``) or forces one of its own functions."""
    choice = body.get("tool_choice")
    if choice == "none" or isinstance(choice, dict):
        return body
    return {**body, "tools": [*(body.get("tools") or []), HANDOFF_TOOL_DEFINITION]}


def is_handoff(call: Any) -> bool:
    return isinstance(call, dict) and (call.get("function") or {}).get("name") == HANDOFF_TOOL


def reason_of(arguments: Any) -> str:
    """The model's reason from the tool call's arguments (JSON ``{"reason": ...}``; anything else is used as text)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    try:
        value = json.loads(text)
        if isinstance(value, dict) and isinstance(value.get("reason"), str):
            text = value["reason"]
    except ValueError:
        pass
    return re.sub(r"\s+", " ", text).strip() or "(no reason given)"


def split_calls(message: dict) -> str | None:
    """Removes handoff calls from a non-streamed answer's ``tool_calls`` (in place); returns the reason of the
    first one, or None when the model did not hand off."""
    calls = message.get("tool_calls") or []
    handoffs = [c for c in calls if is_handoff(c)]
    if not handoffs:
        return None
    rest = [c for c in calls if not is_handoff(c)]
    if rest:
        message["tool_calls"] = rest
    else:
        message.pop("tool_calls", None)
    return reason_of((handoffs[0].get("function") or {}).get("arguments", ""))


def header_value(reason: str) -> str:
    """The reason as an HTTP header value: one line of printable ASCII (others as \\uXXXX), cut to length."""
    line = re.sub(r"\s+", " ", reason).strip()
    safe = "".join(ch if 32 <= ord(ch) < 127 else f"\\u{ord(ch):04x}" for ch in line)
    return safe[:REASON_HEADER_CHARS]


def handed_request(request: ChatRequest, target: Route, reason: str) -> ChatRequest:
    """The original request, addressed to ``target``: the target route's caps applied, and the reason added as a
    developer note after the leading system/developer messages (where instructions go)."""
    body = dict(request.body)
    messages = list(body["messages"])
    at = 0
    while at < len(messages) and messages[at].get("role") in ("system", "developer"):
        at += 1
    messages.insert(at, {"role": "developer", "content": NOTE.format(reason=reason.rstrip("."))})
    body["messages"] = messages
    if target.max_tokens:
        body["max_tokens"] = min(body["max_tokens"], target.max_tokens)
    effort = body.get("reasoning_effort", "medium")
    if target.max_reasoning_effort and EFFORTS.index(effort) > EFFORTS.index(target.max_reasoning_effort):
        body["reasoning_effort"] = target.max_reasoning_effort
    return replace(request, body=body, route=target, handoff=False)


def add_usage(first: dict | None, second: dict | None) -> dict | None:
    """Usage of both calls: tokens of the small model's call and of the handoff target's, summed."""
    if not first or not second:
        return second or first
    reasoning = lambda u: (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)  # noqa: E731
    prompt = first["prompt_tokens"] + second["prompt_tokens"]
    completion = first["completion_tokens"] + second["completion_tokens"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {"reasoning_tokens": reasoning(first) + reasoning(second)},
    }


class StreamedCalls:
    """Takes handoff tool calls out of streamed ``tool_calls`` deltas (by their index, named in the first delta of
    each call) and collects their arguments; other calls pass through unchanged."""

    def __init__(self) -> None:
        self._indexes: set[Any] = set()
        self._arguments: list[str] = []

    def take(self, deltas: list | None) -> list | None:
        if not deltas:
            return deltas
        rest = []
        for d in deltas:
            if not isinstance(d, dict):
                rest.append(d)
                continue
            fn = d.get("function") or {}
            if fn.get("name") == HANDOFF_TOOL:
                self._indexes.add(d.get("index"))
            if d.get("index") in self._indexes:
                self._arguments.append(fn.get("arguments") or "")
            else:
                rest.append(d)
        return rest or None

    @property
    def reason(self) -> str | None:
        """The reason of the handoff call, once one was seen; None when the model did not hand off."""
        return reason_of("".join(self._arguments)) if self._indexes else None


def stream_notice(source: str, target: str, reason: str) -> dict:
    """What a stream carries about a handoff (its headers left before the model decided): an extension field of
    the first chunk of the target's answer."""
    return {"from": source, "to": target, "reason": header_value(reason)}
