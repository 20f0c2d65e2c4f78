"""What both wire formats answer with: a ``Response`` (bytes, or an iterator of SSE parts), and SSE parts that
keep the payload they encode (``SSEPart.payload``), so another wire format built on a stream reads the dicts
instead of parsing the bytes back (core/responses.py over the chat stream)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import chain
from typing import Iterable, Iterator

from gptoss_proxy.core.errors import ProxyError


@dataclass
class Response:
    status: int
    body: bytes | Iterable[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    #: the dict a JSON body encodes (``json_response``), for callers in this process: nothing is parsed back
    payload: dict | None = None

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, (bytes, bytearray))


def json_response(status: int, payload: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}, payload)


def error_response(err: ProxyError) -> Response:
    return json_response(err.status, err.body(), err.headers)


class SSEPart(bytes):
    """One SSE ``data:`` event as bytes, with the dict (or ``"[DONE]"``) it encodes in ``payload``."""

    payload: dict | str


def sse(payload: dict | str) -> SSEPart:
    part = SSEPart(f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode())
    part.payload = payload
    return part


class Provisional(SSEPart):
    """A stream part that commits to nothing yet (the opening role chunk): the status line waits for the
    next part, so a failure that comes before any text can still be answered with its real HTTP status."""


class FailureEvent(SSEPart):
    """An OpenAI error event in a stream; ``error`` is the ProxyError it reports. Before anything real
    was sent the service answers with ``error``'s status instead (see ``open_stream``)."""

    error: ProxyError


def failure_event(err: ProxyError) -> FailureEvent:
    event = FailureEvent(sse(err.body()))
    event.payload, event.error = err.body(), err
    return event


def provisional(payload: dict) -> Provisional:
    part = Provisional(sse(payload))
    part.payload = payload
    return part


def open_stream(events: Iterator[bytes], content_type: str = "text/event-stream") -> Response:
    """Runs a stream of SSE parts up to its first part that commits (text, a tool call, a refusal: anything not
    ``Provisional``), so that the status line is sent only once the answer is sure. A ``FailureEvent`` before that
    becomes the response itself — a real HTTP status with OpenAI's error body (429 + Retry-After, 502, 503,
    504...), which SDKs map to their error types and retry; after it, failures stay SSE error events followed by
    ``[DONE]``. Any wire format's event generator can use it (chat completions today)."""
    held: list[bytes] = []
    for part in events:
        if isinstance(part, FailureEvent):
            close = getattr(events, "close", None)
            if close:
                close()  # nothing reached the client: the error becomes the response
            raise part.error
        held.append(part)
        if not isinstance(part, Provisional):
            break
    return Response(200, chain(held, events), {"Content-Type": content_type, "Cache-Control": "no-cache"})
