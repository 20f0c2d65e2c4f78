"""Guardrail checks around the model: input before the call, output in ~1,000-character batches.

``apply(source, texts) -> GuardVerdict`` is injected (the Bedrock ApplyGuardrail adapter, or a fake). Any
error from it fails closed: the text it was checking never reaches the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from gptoss_proxy.core.errors import ProxyError


@dataclass(frozen=True)
class GuardVerdict:
    """``blocked``: refuse (with ``message``); otherwise ``texts`` are the (possibly masked) texts to use."""

    blocked: bool
    texts: tuple[str, ...]
    message: str = ""
    masked: bool = False


ApplyFn = Callable[[str, Sequence[str]], GuardVerdict]


class GuardrailUnavailable(ProxyError):
    def __init__(self, detail: str) -> None:
        super().__init__(503, f"The guardrail could not check this text ({detail}); nothing unchecked is returned.", type="api_error", code="guardrail_unavailable")


class ContentBlocked(Exception):
    """The guardrail blocked model output; ``message`` is the guardrail's blocked-output message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Guard:
    def __init__(self, apply: ApplyFn | None, *, batch_chars: int = 1000, fast: bool = False) -> None:
        self.apply = apply
        self.batch_chars = batch_chars
        self.fast = fast
        self.calls = 0

    @property
    def enabled(self) -> bool:
        return self.apply is not None

    def _call(self, source: str, texts: Sequence[str]) -> GuardVerdict:
        self.calls += 1
        try:
            return self.apply(source, texts)
        except ProxyError:
            raise
        except Exception as err:  # fail closed on anything the guardrail call raises
            raise GuardrailUnavailable(err.__class__.__name__) from None

    def check_input(self, messages: list[dict]) -> tuple[list[dict], str]:
        """Checks every message's text; returns messages with masked texts and the action taken."""
        if not self.enabled:
            return messages, "off"
        indexed = [(i, m["content"]) for i, m in enumerate(messages) if isinstance(m.get("content"), str) and m["content"]]
        if not indexed:
            return messages, "none"
        verdict = self._call("INPUT", [text for _, text in indexed])
        if verdict.blocked:
            raise ProxyError(400, verdict.message or "Your request was blocked by the content policy.", param="messages", code="content_filter")
        if not verdict.masked:
            return messages, "none"
        out = [dict(m) for m in messages]
        for (i, _), text in zip(indexed, verdict.texts):
            out[i]["content"] = text
        return out, "masked"

    def check_output(self, text: str) -> tuple[str, str]:
        """Whole output (non-streaming): returns the text to release and the action; raises ContentBlocked."""
        if not self.enabled or not text:
            return text, "off" if not self.enabled else "none"
        verdict = self._call("OUTPUT", [text])
        if verdict.blocked:
            raise ContentBlocked(verdict.message)
        return (verdict.texts[0] if verdict.masked else text), ("masked" if verdict.masked else "none")

    def stream(self) -> "StreamGuard":
        return StreamGuard(self)


class StreamGuard:
    """Batches one output field of a stream. ``feed`` returns text that may be released now; ``flush`` the rest.

    safe mode: text is released only after its batch passed (masked text replaces it).
    fast mode: text is released at once and checked per batch; an intervention cuts the stream.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.pending = ""

    def feed(self, text: str) -> str:
        if not self.guard.enabled:
            return text
        self.pending += text
        if len(self.pending) < self.guard.batch_chars:
            return text if self.guard.fast else ""
        return self._check(released_already=text if self.guard.fast else "")

    def flush(self) -> str:
        if not self.guard.enabled or not self.pending:
            return ""
        return self._check(released_already="")

    def _check(self, released_already: str) -> str:
        batch, self.pending = self.pending, ""
        released, _ = self.guard.check_output(batch)
        if self.guard.fast:
            return released_already
        return released
