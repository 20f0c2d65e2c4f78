"""The proxy as a function of a request: routing, validation, guardrails, retries, fallback, SSE.

``ProxyService.handle`` takes method, path, headers and body bytes and returns a ``Response`` whose body is
bytes or, for streams, an iterator of SSE byte chunks. Backends and the guardrail are injected.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Protocol

from gptoss_proxy.core.errors import BackendError, BackendThrottled, ProxyError
from gptoss_proxy.core.guard import ApplyFn, ContentBlocked, Guard, StreamFields
from gptoss_proxy.core.reasoning import ReasoningSplitter
from gptoss_proxy.core.request import ChatRequest, parse_json, validate
from gptoss_proxy.core.settings import Route, Settings
from gptoss_proxy.core.translate import backend_body, chunk, completion_from_backend, new_id, usage_of


class Backend(Protocol):
    def complete(self, route: Route, body: dict, timeout: float) -> dict: ...

    def stream(self, route: Route, body: dict, timeout: float) -> Iterator[dict]: ...


@dataclass
class Response:
    status: int
    body: bytes | Iterable[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, (bytes, bytearray))


def json_response(status: int, payload: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


def error_response(err: ProxyError) -> Response:
    return json_response(err.status, err.body(), err.headers)


def sse(payload: dict | str) -> bytes:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()


class ProxyService:
    def __init__(
        self,
        settings: Settings,
        backends: Mapping[str, Backend],
        guardrail: ApplyFn | None = None,
        *,
        log: Callable[[dict], None] = lambda record: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.backends = backends
        self.guardrail = guardrail
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._cold = True  # the first request this process serves

    # ---- entry point -----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes, *, deadline: float | None = None, consumer: str = "unknown", request_id: str = "") -> Response:
        started = self.clock()
        deadline = deadline if deadline is not None else started + 300
        path = "/" + path.strip("/")
        record = {"request_id": request_id or new_id(), "method": method, "path": path, "consumer": consumer}
        if self._cold:
            record["cold_start"], self._cold = True, False
        try:
            if path in ("/v1/chat/completions", "/chat/completions"):
                if method != "POST":
                    raise ProxyError(405, f"Method {method} is not allowed on {path}; use POST.", code="method_not_allowed")
                response = self._chat(headers, body, deadline, record)
            elif path in ("/v1/models", "/models") and method == "GET":
                response = json_response(200, self._models())
            elif path == "/health" and method == "GET":
                response = json_response(200, {"status": "ok", "routes": sorted(self.settings.routes), "guardrail": "on" if self.guardrail else "off"})
            else:
                raise ProxyError(404, f"Unknown request URL: {method} {path}.", code="unknown_url")
        except ProxyError as err:
            response = error_response(err)
            record.update(error=err.code)
        except Exception as err:  # never leak a traceback: an unexpected failure is a 500 with an OpenAI body
            response = error_response(ProxyError(500, "The proxy hit an internal error.", type="api_error", code="internal_error"))
            record.update(error=err.__class__.__name__)
        record.update(status=response.status, latency_ms=round((self.clock() - started) * 1000, 1))
        if not response.streaming:
            self.log(record)
        return response

    def _models(self) -> dict:
        return {
            "object": "list",
            "data": [
                {"id": r.model, "object": "model", "created": 0, "owned_by": f"{r.backend}:{r.target}", "fallback": r.fallback}
                for r in sorted(self.settings.routes.values(), key=lambda r: r.model)
            ],
        }

    # ---- chat ------------------------------------------------------------------------------------------

    def _chat(self, headers: Mapping[str, str], raw: bytes, deadline: float, record: dict) -> Response:
        escalate_header = str(headers.get("x-gptoss-escalate", "")).lower() == "true"
        request = validate(parse_json(raw, self.settings), self.settings, escalate_header)
        record.update(route=request.route.model, stream=request.stream)
        guard = Guard(self.guardrail, batch_chars=self.settings.guardrail_batch_chars, fast=self.settings.guardrail_stream_mode == "fast")
        try:
            request.body, record["guardrail_input"] = guard.check_input(request.body)
        except ProxyError:
            record["guardrail_input"] = guard.actions.get("input", "unavailable")  # blocked / refused / unavailable
            raise
        if request.stream:
            return Response(200, self._stream(request, guard, deadline, record), {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        raw_response, route = self._call(request, deadline, stream=False)
        try:
            completion = completion_from_backend(raw_response, request, route.model)
        except ValueError as err:
            raise ProxyError(502, f"The model backend returned an unusable answer ({err}).", type="api_error", code="backend_error") from None
        message = completion["choices"][0]["message"]
        try:
            guard.check_message(message)  # content, reasoning and tool calls, masked in place
        except ContentBlocked as blocked:
            message.pop("reasoning_content", None)
            message.pop("tool_calls", None)
            message["content"] = blocked.message
            completion["choices"][0]["finish_reason"] = "content_filter"
        record.update(guard.log_fields())
        record.update(model=route.model, **_usage_fields(completion.get("usage")))
        return json_response(200, completion, {"x-gptoss-model": route.model, "x-gptoss-route": request.route.model})

    def _candidates(self, request: ChatRequest) -> list[Route]:
        chain, route, seen = [], request.route, set()
        while route is not None and route.model not in seen:
            chain.append(route)
            seen.add(route.model)
            route = self.settings.routes.get(route.fallback) if route.fallback else None
        return chain[1:] if request.escalate and len(chain) > 1 else chain

    def _call(self, request: ChatRequest, deadline: float, *, stream: bool):
        """Calls the route (retrying throttles with backoff + jitter within the deadline), then its fallbacks."""
        last: BackendError | None = None
        for route in self._candidates(request):
            body = backend_body(request, stream)
            for attempt in range(self.settings.max_retries + 1):
                remaining = deadline - self.clock()
                if remaining <= 1:
                    break
                try:
                    backend = self.backends[route.backend]
                    result = backend.stream(route, body, remaining) if stream else backend.complete(route, body, remaining)
                    return result, route
                except BackendThrottled as err:
                    last = err
                    pause = min(8.0, 0.25 * 2**attempt) * (0.5 + self.rng.random())
                    if attempt == self.settings.max_retries or self.clock() + pause >= deadline - 1:
                        break
                    self.sleep(pause)
                except BackendError as err:
                    last = err
                    break
            if last is not None and not last.fallback:
                break
        if last is None:
            raise ProxyError(504, "No time was left to call the model backend.", type="timeout", code="backend_timeout")
        raise last.to_proxy_error()

    # ---- streaming -------------------------------------------------------------------------------------

    def _stream(self, request: ChatRequest, guard: Guard, deadline: float, record: dict) -> Iterator[bytes]:
        completion_id, created = new_id(), int(time.time())
        try:
            chunks, route = self._call(request, deadline, stream=True)
            source = iter(chunks)
            first = next(source, None)  # a failure before the first chunk can still fall back / return an error
        except ProxyError as err:
            record.update(status=err.status, error=err.code)
            self.log(record)
            yield sse(err.body())
            yield sse("[DONE]")
            return
        except BackendError as err:
            record.update(error=err.code)
            self.log(record)
            yield sse(err.to_proxy_error().body())
            yield sse("[DONE]")
            return
        model = route.model
        splitter = ReasoningSplitter() if route.backend == "bedrock" else None
        fields = StreamFields(guard)  # reasoning, content and tool calls released in the model's order
        finish, usage, reasoning_chars = None, None, 0
        yield sse(chunk(completion_id, model, created, {"role": "assistant", "content": ""}))
        try:
            for raw in _chain(first, source):
                if raw is None:
                    continue
                if raw.get("usage"):
                    usage = raw["usage"]
                for choice in raw.get("choices") or []:
                    delta = choice.get("delta") or {}
                    reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
                    content = delta.get("content") or ""
                    if splitter is not None and content:
                        inline, content = splitter.feed(content)
                        reasoning += inline
                    reasoning_chars += len(reasoning)
                    for out in fields.feed(reasoning, content, delta.get("tool_calls")):
                        yield sse(chunk(completion_id, model, created, out))
                    finish = choice.get("finish_reason") or finish
                    if choice.get("finish_reason"):
                        for out in fields.finish_calls():
                            yield sse(chunk(completion_id, model, created, out))
            if splitter is not None:
                inline, tail = splitter.finish()
                for out in fields.feed(inline, tail, None):
                    yield sse(chunk(completion_id, model, created, out))
            for out in fields.finish():
                yield sse(chunk(completion_id, model, created, out))
            yield sse(chunk(completion_id, model, created, {}, finish or "stop"))
        except ContentBlocked as blocked:
            yield sse(chunk(completion_id, model, created, {"content": blocked.message}))
            yield sse(chunk(completion_id, model, created, {}, "content_filter"))
        except (BackendError, ProxyError) as err:
            proxy_err = err.to_proxy_error() if isinstance(err, BackendError) else err
            record.update(error=proxy_err.code)
            yield sse(proxy_err.body())
        except Exception as err:  # mid-stream surprise: end the stream with an error event, never hang
            record.update(error=err.__class__.__name__)
            yield sse(ProxyError(500, "The proxy hit an internal error mid-stream.", type="api_error", code="internal_error").body())
        record.update(guard.log_fields())
        final_usage = usage_of(usage, reasoning_chars)
        if request.include_usage and final_usage:
            yield sse(chunk(completion_id, model, created, usage=final_usage))
        yield sse("[DONE]")
        record.update(model=model, **_usage_fields(final_usage))
        self.log(record)


def _chain(first, rest: Iterator) -> Iterator:
    if first is not None:
        yield first
    yield from rest


def _usage_fields(usage: dict | None) -> dict:
    if not usage:
        return {}
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "reasoning_tokens": usage.get("completion_tokens_details", {}).get("reasoning_tokens", 0),
    }
