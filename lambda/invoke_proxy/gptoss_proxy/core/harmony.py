"""Exact budget forcing in the harmony format (seed 003), over the container's completions interface.

gpt-oss speaks harmony (github.com/openai/harmony, docs/format.md): messages are
``<|start|>{role}[<|channel|>{channel}]<|message|>{content}<|end|>``; the model thinks in the ``analysis`` channel
and answers in ``final``. With the raw prompt the proxy can do what s1 does on tokens:

- open the analysis message itself (``<|start|>assistant<|channel|>analysis<|message|>``) and let the model reason
  for at most the budget (``max_tokens``; the model's own end of reasoning, ``<|end|>``, is a stop token);
- at the budget, or when the model ended its reasoning at or above the minimum: end the analysis message and open
  the final channel (``<|end|><|start|>assistant<|channel|>final<|message|>``) and let it answer;
- below the minimum: drop the model's end of reasoning, append "Wait" and let it continue.

Every token count here is the backend's own ``usage`` (exact). The text is rendered in pure Python (the Lambda has
only boto3; the ``openai-harmony`` wheel is compiled), checked against openai/harmony's golden renderings in the
tests. Only requests without tools, tool messages or response_format are rendered (``renderable``); others use
the chat-interface budget (core/budget.py).

The JumpStart LMI container accepts an OpenAI *completions* body (``prompt``) on /invocations in vLLM async mode
(djl-serving ``engines/python/setup/djl_python/lmi_vllm/vllm_async_service.py``, ``preprocess_request``:
``"prompt" in payload`` → vLLM ``CompletionRequest``; async mode is the default from LMI v17,
``serving/docs/lmi/user_guides/vllm_user_guide.md``), and vLLM's ``CompletionRequest``
(``vllm/entrypoints/openai/completion/protocol.py``) takes ``stop_token_ids`` and ``skip_special_tokens``. Recent
vLLM also has a native ``thinking_token_budget`` request field; whether the JumpStart image's vLLM has it is
unknown here, so it is not used. UNCONFIRMED(manual:harmony-completions) offline: that the JumpStart gpt-oss endpoint runs
that mode, passes ``skip_special_tokens`` / ``stop_token_ids`` through, and tokenizes the special tokens written in
the prompt text as special tokens. ``examples/smoke_budget.py`` checks exactly that on a real endpoint (an
analysis stopped at a 16-token budget with ``finish_reason: length``, then a plain-text final answer). Routes opt
in with ``budget_mode: "harmony"``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

START, END, MESSAGE, CHANNEL, RETURN, CALL = "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>"
#: token ids of the special tokens (openai/harmony docs/format.md, "Special Tokens")
TOKEN_IDS = {START: 200006, END: 200007, MESSAGE: 200008, CHANNEL: 200005, RETURN: 200002, CALL: 200012}
IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
KNOWLEDGE_CUTOFF = "2024-06"
CHANNELS = "# Valid channels: analysis, commentary, final. Channel must be included for every message."
OPEN_ANALYSIS = f"{START}assistant{CHANNEL}analysis{MESSAGE}"
FORCE_FINAL = f"{END}{START}assistant{CHANNEL}final{MESSAGE}"
WAIT = "Wait"
MAX_WAITS = 8


def renderable(body: dict) -> bool:
    """True when the request can be rendered here: text messages of system/developer/user/assistant (no tool
    calls, no tool results), no tools, no response_format."""
    if body.get("tools") or body.get("response_format"):
        return False
    return all(m.get("role") in ("system", "developer", "user", "assistant") and not m.get("tool_calls") for m in body["messages"])


def message(role: str, content: str, channel: str | None = None) -> str:
    return f"{START}{role}{CHANNEL + channel if channel else ''}{MESSAGE}{content}{END}"


def system_message(effort: str, date: str | None = None) -> str:
    """The system message harmony's renderer writes for SystemContent with identity, cutoff, date, effort and the
    default channels (encoding.rs ``Render<SystemContent>``)."""
    top = [IDENTITY, f"Knowledge cutoff: {KNOWLEDGE_CUTOFF}"] + ([f"Current date: {date}"] if date else [])
    return message("system", "\n\n".join(["\n".join(top), f"Reasoning: {effort}", CHANNELS]))


def render_messages(messages: list[dict]) -> str:
    """User and assistant turns; earlier assistant answers go to ``final`` and their reasoning is dropped (harmony
    drops earlier chain of thought after a final answer). System/developer texts are rendered by ``render``."""
    out = []
    for m in messages:
        if m["role"] == "user":
            out.append(message("user", m.get("content") or ""))
        elif m["role"] == "assistant":
            out.append(message("assistant", m.get("content") or "", "final"))
    return "".join(out)


def render(body: dict, date: str | None = None) -> str:
    """The prompt for a request: system (with its effort), developer instructions (the client's system and
    developer messages, in order), the conversation, and the opened analysis message."""
    instructions = "\n\n".join(m.get("content") or "" for m in body["messages"] if m["role"] in ("system", "developer"))
    developer = message("developer", f"# Instructions\n\n{instructions}") if instructions else ""
    return system_message(body.get("reasoning_effort", "medium"), date) + developer + render_messages(body["messages"]) + OPEN_ANALYSIS


def completion_body(prompt: str, max_tokens: int, stream: bool, *, analysis: bool) -> dict[str, Any]:
    """An OpenAI completions body (vLLM extensions ``skip_special_tokens`` / ``stop_token_ids``): analysis stops at
    the model's end of message; the final answer at its return (or end)."""
    stops = [TOKEN_IDS[END], TOKEN_IDS[CALL], TOKEN_IDS[RETURN]] if analysis else [TOKEN_IDS[RETURN], TOKEN_IDS[END], TOKEN_IDS[CALL]]
    body: dict[str, Any] = {"prompt": prompt, "max_tokens": max(1, max_tokens), "stream": stream, "skip_special_tokens": False,
                            "stop_token_ids": stops}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def _text(raw: dict) -> tuple[str, str | None]:
    choice = (raw.get("choices") or [{}])[0]
    return choice.get("text") or "", choice.get("finish_reason")


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def force(
    body: dict,
    budget,
    call: Callable[[dict], Iterator[dict]],
    *,
    record: dict,
    date: str | None = None,
) -> Iterator[dict]:
    """Runs the forced generation as backend chat chunks (analysis → ``reasoning_content``, final → ``content``)
    with one usage chunk at the end (the backend's own counts, summed; reasoning = the analysis calls' tokens).

    :param call: streams one completions body from the backend (its chunks: ``choices[0].text``, ``usage``).
    """
    prompt = render(body, date)
    total = body.get("max_tokens") or 4096
    high = min(budget.max_tokens or total, total)
    reasoned, prompt_tokens, completion_tokens, waits, actions = 0, 0, 0, 0, []
    while True:
        finish, text, usage = None, "", None
        for raw in call(completion_body(prompt, high - reasoned, True, analysis=True)):
            piece, finish = _text(raw)[0], _text(raw)[1] or finish
            usage = raw.get("usage") or usage
            if piece:
                text += piece
                yield _chunk({"reasoning_content": piece})
        used = (usage or {}).get("completion_tokens", 0)
        reasoned, completion_tokens = reasoned + used, completion_tokens + used
        prompt_tokens += (usage or {}).get("prompt_tokens", 0)
        prompt += text
        if finish == "length" or reasoned >= high:
            actions.append("forced")
            break
        if budget.min_tokens and reasoned < budget.min_tokens and waits < MAX_WAITS:
            waits += 1
            actions.append("wait")
            prompt += WAIT
            yield _chunk({"reasoning_content": WAIT})
            continue
        break
    prompt += FORCE_FINAL
    finish, usage = None, None
    for raw in call(completion_body(prompt, total - reasoned, True, analysis=False)):
        piece, finish = _text(raw)[0], _text(raw)[1] or finish
        usage = raw.get("usage") or usage
        if piece:
            yield _chunk({"content": piece})
    completion_tokens += (usage or {}).get("completion_tokens", 0)
    prompt_tokens += (usage or {}).get("prompt_tokens", 0)
    yield _chunk({}, "length" if finish == "length" else "stop")
    record["budget_actions"] = actions
    yield {"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                    "total_tokens": prompt_tokens + completion_tokens,
                                    "completion_tokens_details": {"reasoning_tokens": reasoned}}}
