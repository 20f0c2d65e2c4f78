"""Splits Bedrock gpt-oss output, where reasoning comes inline as ``<reasoning>…</reasoning>`` before the
answer, into reasoning and content — also when a stream cuts the tags across chunks."""

from __future__ import annotations

import re

OPEN, CLOSE = "<reasoning>", "</reasoning>"
_BLOCK = re.compile(r"<reasoning>(.*?)</reasoning>", re.S)


def split_reasoning(text: str) -> tuple[str, str]:
    """Whole text → (reasoning, content)."""
    reasoning = "".join(_BLOCK.findall(text))
    return reasoning, _BLOCK.sub("", text)


class ReasoningSplitter:
    """Incremental ``split_reasoning``: ``feed`` returns what can be released now as (reasoning, content)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> tuple[str, str]:
        self._buffer += text
        reasoning, content = [], []
        while self._buffer:
            tag = CLOSE if self._inside else OPEN
            at = self._buffer.find(tag)
            if at >= 0:
                (reasoning if self._inside else content).append(self._buffer[:at])
                self._buffer = self._buffer[at + len(tag):]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buffer, tag)  # a tag may be cut across chunks: hold its start back
            (reasoning if self._inside else content).append(self._buffer[: len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep:]
            break
        return "".join(reasoning), "".join(content)

    def finish(self) -> tuple[str, str]:
        rest, self._buffer = self._buffer, ""
        return (rest, "") if self._inside else ("", rest)


def delta_texts(delta: dict, splitter: "ReasoningSplitter | None") -> tuple[str, str]:
    """The reasoning and the answer text of one streamed delta: vLLM sends reasoning in its own field
    (``reasoning_content``, ``reasoning`` in newer releases), Bedrock inline in ``<reasoning>`` tags that
    ``splitter`` takes out of the content (tags may be cut across deltas)."""
    reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
    content = delta.get("content") or ""
    if splitter is not None and content:
        inline, content = splitter.feed(content)
        reasoning += inline
    return reasoning, content


def _partial_suffix(text: str, tag: str) -> int:
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
