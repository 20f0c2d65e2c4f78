"""Reasoning budgets (seed 003): cap the model's reasoning at N tokens and, below a minimum, make it go on.

Request fields (both conventions): ``reasoning: {"max_tokens": N, "min_tokens": M}`` (OpenRouter's object; also
``effort``, ``enabled``) and ``thinking: {"type": "enabled", "budget_tokens": N}`` (Anthropic-style, as LiteLLM
sends it; ``{"type": "disabled"}`` means the lowest effort: gpt-oss always reasons). Routes carry an operator cap
(``Route.max_reasoning_tokens``: larger budgets are lowered to it) and a default (``Route.reasoning_tokens``).

Over the chat interface (both backends) the budget is enforced on the model's stream, the way s1's budget forcing
works on tokens, as far as a chat API allows:

- **maximum**: reasoning is released up to N tokens; then the backend stream is closed (the model stops) and the
  model is asked again with the conversation plus a developer note holding its reasoning so far and "stop
  reasoning now and give your final answer" (at low effort). The re-ask reasons too (briefly): that reasoning is
  released and counted, so the total can exceed N by the re-ask's own reasoning.
- **minimum**: when the model ends its reasoning (its answer or a tool call starts) below M tokens, the answer is
  not released; the model is asked again with its reasoning so far followed by "Wait" — the s1 trick — and goes
  on reasoning (at most ``MAX_WAITS`` times).

Tokens of released reasoning are counted as ceil(characters / 4) (o200k averages about 4 characters a token on
English), so N is held to that estimate. A phase cut short has no usage from the backend: its completion tokens
are that same estimate and its prompt tokens the request's estimate; the backend's own usage counts every
completed phase. Exact budget forcing on token ids (end the analysis message and open the final channel in the
harmony format) needs the container's completions interface: see ``core/harmony.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.reasoning import ReasoningSplitter, delta_texts

TOKEN_CHARS = 4
MAX_WAITS = 2
#: every note the proxy adds starts with this (the emulated model recognizes it)
NOTE_PREFIX = "[reasoning budget]"
FORCE_NOTE = (
    NOTE_PREFIX + " You reached your reasoning budget of {budget} tokens. Your reasoning so far:\n{reasoning}\n"
    "Stop reasoning now and give your final answer to the user, based on that reasoning."
)
WAIT_NOTE = (
    NOTE_PREFIX + " Your reasoning so far:\n{reasoning}\nWait. Re-check your work and continue reasoning for at least "
    "{more} more tokens before you answer."
)
REASONING_KEYS = ("max_tokens", "min_tokens", "effort", "enabled")
MAX_BUDGET = 131_072


@dataclass(frozen=True)
class Budget:
    max_tokens: int | None = None
    min_tokens: int | None = None


def tokens(text: str) -> int:
    return math.ceil(len(text) / TOKEN_CHARS)


def _bad(message: str, param: str) -> ProxyError:
    return ProxyError(400, message, param=param, code="invalid_value")


def _int(value: Any, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BUDGET:
        raise _bad(f"Invalid '{param}': expected an integer from 1 to {MAX_BUDGET}, got {value!r}.", param)
    return value


def parse(body: dict) -> tuple[Budget | None, str | None]:
    """The budget and effort the request asks for (400 on bad values): ``(budget or None, effort or None)``."""
    reasoning, thinking = body.get("reasoning"), body.get("thinking")
    if reasoning is not None and thinking is not None:
        raise _bad("Send either 'reasoning' or 'thinking', not both.", "thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled") or set(thinking) - {"type", "budget_tokens"}:
            raise _bad("Invalid 'thinking': expected {'type': 'enabled', 'budget_tokens': N} or {'type': 'disabled'}.", "thinking")
        if thinking["type"] == "disabled":
            return None, "low"  # gpt-oss always reasons: the least it can
        if "budget_tokens" not in thinking:
            raise _bad("Missing required parameter: 'thinking.budget_tokens'.", "thinking.budget_tokens")
        return Budget(max_tokens=_int(thinking["budget_tokens"], "thinking.budget_tokens")), None
    if reasoning is None:
        return None, None
    if not isinstance(reasoning, dict) or set(reasoning) - set(REASONING_KEYS):
        raise _bad(f"Invalid 'reasoning': expected an object with {', '.join(REASONING_KEYS)}.", "reasoning")
    effort = reasoning.get("effort")
    if effort is not None and effort not in ("low", "medium", "high"):
        raise _bad(f"Invalid 'reasoning.effort': {effort!r}; supported values are: low, medium, high.", "reasoning.effort")
    if effort is not None and "max_tokens" in reasoning:
        raise _bad("Send 'reasoning.effort' or 'reasoning.max_tokens', not both.", "reasoning.max_tokens")
    if reasoning.get("enabled") is False:
        return None, "low"
    high = _int(reasoning["max_tokens"], "reasoning.max_tokens") if "max_tokens" in reasoning else None
    low = _int(reasoning["min_tokens"], "reasoning.min_tokens") if "min_tokens" in reasoning else None
    if high is not None and low is not None and low > high:
        raise _bad(f"Invalid 'reasoning.min_tokens': {low} is more than reasoning.max_tokens {high}.", "reasoning.min_tokens")
    return (Budget(high, low) if high or low else None), effort


def for_route(budget: Budget | None, route) -> Budget | None:
    """The route's default when the request set none, and its cap."""
    if budget is None and route.reasoning_tokens:
        budget = Budget(max_tokens=route.reasoning_tokens)
    if budget is None or not route.max_reasoning_tokens:
        return budget
    cap = route.max_reasoning_tokens
    high = min(budget.max_tokens or cap, cap)
    return Budget(max_tokens=high, min_tokens=min(budget.min_tokens, high) if budget.min_tokens else None)


def effort_for(budget: Budget) -> str:
    """The reasoning_effort a budget suggests when the request names none (a heuristic, not a documented mapping):
    up to 1,024 tokens low, up to 8,192 medium, above high."""
    n = budget.max_tokens or budget.min_tokens or 0
    return "low" if budget.max_tokens and n <= 1024 else "medium" if n <= 8192 else "high"


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _close(source: Any) -> None:
    """Stops the backend stream: the adapter's ``abort`` (shuts its connection down) or the iterator's ``close``."""
    stop = getattr(source, "abort", None) or getattr(source, "close", None)
    if stop:
        stop()


def _add(total: dict | None, usage: dict) -> dict:
    reasoning = lambda u: (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)  # noqa: E731
    if total is None:
        return {"prompt_tokens": usage.get("prompt_tokens", 0), "completion_tokens": usage.get("completion_tokens", 0),
                "completion_tokens_details": {"reasoning_tokens": reasoning(usage)}}
    return {"prompt_tokens": total["prompt_tokens"] + usage.get("prompt_tokens", 0),
            "completion_tokens": total["completion_tokens"] + usage.get("completion_tokens", 0),
            "completion_tokens_details": {"reasoning_tokens": reasoning(total) + reasoning(usage)}}


def enforce(
    chunks: Iterator[dict],
    budget: Budget,
    body: dict,
    reask: Callable[[dict], Iterator[dict]],
    *,
    inline: bool,
    prompt_estimate: int,
    record: dict,
) -> Iterator[dict]:
    """The backend's stream with the budget enforced, as backend chunks (reasoning in ``reasoning_content``,
    inline Bedrock reasoning split out when ``inline``) and one usage chunk at the end, summed over the phases.

    :param reask: streams a new backend body (the same route).
    """
    so_far, usage, waits, forced = "", None, 0, False
    source = chunks
    while True:
        splitter = ReasoningSplitter() if inline else None
        phase, cut, phase_usage = "", None, None
        for raw in source:
            if raw.get("usage"):
                phase_usage = raw["usage"]
            for choice in raw.get("choices") or []:
                delta = choice.get("delta") or {}
                reasoning, content = delta_texts(delta, splitter)
                if reasoning and not forced and budget.max_tokens and tokens(so_far + phase + reasoning) > budget.max_tokens:
                    room = budget.max_tokens * TOKEN_CHARS - len(so_far + phase)
                    phase += reasoning[:max(0, room)]
                    if room > 0:
                        yield _chunk({"reasoning_content": reasoning[:room]})
                    cut = "max"
                    break
                if reasoning:
                    phase += reasoning
                    yield _chunk({"reasoning_content": reasoning})
                answering = content or delta.get("tool_calls")
                if answering and not forced and budget.min_tokens and waits < MAX_WAITS and tokens(so_far + phase) < budget.min_tokens:
                    cut = "min"
                    break
                out = {k: v for k, v in (("content", content), ("tool_calls", delta.get("tool_calls"))) if v}
                if out or choice.get("finish_reason"):
                    yield _chunk(out, choice.get("finish_reason"))
            if cut:
                break
        if splitter is not None and not cut:
            more, tail = splitter.finish()
            if more or tail:
                phase += more
                yield _chunk({k: v for k, v in (("reasoning_content", more), ("content", tail)) if v})
        if cut:
            _close(source)  # the model stops: nothing more is read from this call
            phase_usage = {"prompt_tokens": prompt_estimate, "completion_tokens": tokens(phase),
                           "completion_tokens_details": {"reasoning_tokens": tokens(phase)}}
        if phase_usage:
            usage = _add(usage, phase_usage)
        so_far += phase
        if cut is None:
            break
        record.setdefault("budget_actions", []).append("forced" if cut == "max" else "wait")
        messages = list(body["messages"])
        if cut == "max":
            forced = True
            note = FORCE_NOTE.format(budget=budget.max_tokens, reasoning=so_far)
            next_body = {**body, "reasoning_effort": "low"}
        else:
            waits += 1
            note = WAIT_NOTE.format(reasoning=so_far, more=budget.min_tokens - tokens(so_far))
            next_body = dict(body)
        next_body["messages"] = [*messages, {"role": "developer", "content": note}]
        source = reask(next_body)
    record["reasoning_tokens_released"] = tokens(so_far)
    if usage is not None:
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        yield {"choices": [], "usage": usage}


def collect(chunks: Iterator[dict]) -> dict:
    """A budgeted stream gathered into a backend chat.completion (for non-stream requests)."""
    reasoning, content, calls, finish, usage = [], [], {}, None, None
    for raw in chunks:
        usage = raw.get("usage") or usage
        for choice in raw.get("choices") or []:
            delta = choice.get("delta") or {}
            reasoning.append(delta.get("reasoning_content") or "")
            content.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call.get("index", 0), {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None, "reasoning_content": "".join(reasoning)}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish or "stop"}], "usage": usage}
