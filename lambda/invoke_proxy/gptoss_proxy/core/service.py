"""The proxy as a function of a request: routing, validation, guardrails, retries, fallback, SSE.

``ProxyService.handle`` takes method, path, headers and body bytes and returns a ``Response`` whose body is
bytes or, for streams, an iterator of SSE byte chunks. Backends and the guardrail are injected.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping, Protocol

from gptoss_proxy.core import budget, completions, handoff, harmony, responses
from gptoss_proxy.core.errors import BackendError, BackendThrottled, ProxyError
from gptoss_proxy.core.guard import ApplyFn, ContentBlocked, Guard, StreamFields
from gptoss_proxy.core.reasoning import ReasoningSplitter, delta_texts
from gptoss_proxy.core.sealed import Sealer
from gptoss_proxy.core.request import ChatRequest, parse_json, unsupported_on, validate
from gptoss_proxy.core.settings import Route, Settings
from gptoss_proxy.core.wire import (  # noqa: F401  (re-exported: the service's answers)
    FailureEvent,
    Provisional,
    Response,
    SSEPart,
    error_response,
    failure_event,
    json_response,
    open_stream,
    provisional,
    sse,
)
from gptoss_proxy.core.translate import backend_body, chunk, completion_from_backend, new_id, to_legacy_function_call, usage_of


class Backend(Protocol):
    def complete(self, route: Route, body: dict, timeout: float) -> dict: ...

    def stream(self, route: Route, body: dict, timeout: float) -> Iterator[dict]: ...


class _Peeked:
    """A backend stream whose first chunk was read at once, inside the call's retry / fallback loop: a stream
    that fails on its first event (e.g. Bedrock's in-stream ``throttlingException``) is retried or falls back
    like a call that failed, since nothing has been sent yet. Keeps the stream's ``abort``."""

    _NOTHING = object()

    def __init__(self, chunks) -> None:
        self.abort = getattr(chunks, "abort", None)
        self._rest = iter(chunks)
        self._first = next(self._rest, self._NOTHING)

    def __iter__(self) -> Iterator:
        if self._first is not self._NOTHING:
            yield self._first
        yield from self._rest


def _legacy_function_stream(events: Iterator[bytes]) -> Iterator[bytes]:
    """For a request made with ``functions``: the streamed first tool call as ``delta.function_call`` and
    ``finish_reason: function_call``, the shape those clients parse."""
    for part in events:
        payload = getattr(part, "payload", None)
        if type(part) is SSEPart and b'"tool_calls"' in part and isinstance(payload, dict):
            for choice in payload.get("choices") or []:
                delta = choice.get("delta") or {}
                calls = [c for c in delta.pop("tool_calls", None) or [] if c.get("index", 0) == 0]
                if calls:
                    fn = calls[0].get("function") or {}
                    delta["function_call"] = {k: fn[k] for k in ("name", "arguments") if k in fn}
                if choice.get("finish_reason") == "tool_calls":
                    choice["finish_reason"] = "function_call"
            part = sse(payload)
        yield part


class DeadlineReached(ProxyError):
    def __init__(self) -> None:
        super().__init__(
            504,
            "The request reached the platform's time limit before the model finished; the answer ends here.",
            type="timeout",
            code="request_deadline",
        )


class Watchdog:
    """One thread that fires the deadline alarms of every stream in the process (a thread per stream costs about
    a millisecond to start and stop; an alarm here is a heap push)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[list] = []  # [when (time.monotonic), sequence, callback or None when cancelled]
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, delay: float, callback: Callable[[], None]) -> list:
        alarm = [time.monotonic() + delay, next(self._sequence), callback]
        with self._cond:
            heapq.heappush(self._heap, alarm)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0] is alarm:
                self._cond.notify()
        return alarm

    @staticmethod
    def cancel(alarm: list) -> None:
        alarm[2] = None  # dropped when it reaches the top of the heap

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                callback = heapq.heappop(self._heap)[2]
                self._cond.release()
                try:
                    callback()
                except Exception:  # an abort that fails leaves the read to its own timeout
                    pass
                finally:
                    self._cond.acquire()


WATCHDOG = Watchdog()


def _bounded(source: Iterator, cutoff: float, clock: Callable[[], float], abort: Callable[[], None] | None = None) -> Iterator:
    """Passes backend chunks through until ``cutoff`` (the deadline less the margin), then raises DeadlineReached.

    A chunk arriving late is caught after it arrives; a model that stalls mid-stream is caught by a watchdog
    that fires at the cutoff and calls the backend stream's ``abort`` (the adapter shuts its connection down), so
    the blocked read returns and the stream can still end with an error event and ``[DONE]`` before Lambda's
    deadline. Without ``abort`` the stall lasts until the adapter's read timeout.
    """
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        if abort is not None:
            abort()

    alarm = WATCHDOG.add(max(0.0, cutoff - clock()), fire)
    try:
        while True:
            try:
                item = next(source)
            except StopIteration:
                return
            except Exception:
                if fired.is_set() or clock() >= cutoff:
                    raise DeadlineReached() from None  # the read was cut by the watchdog
                raise
            if fired.is_set() or clock() >= cutoff:
                raise DeadlineReached()
            yield item
    finally:
        WATCHDOG.cancel(alarm)


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
        sealer: Sealer | None = None,
    ) -> None:
        self.settings = settings
        self.backends = backends
        self.guardrail = guardrail
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.sealer = sealer  # reasoning sealing for the Responses API (core/sealed.py); None: refused
        self._cold = True  # the first request this process serves
        self.handoffs = handoff.HandoffCounter()

    # ---- entry point -----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes, *, deadline: float | None = None, consumer: str = "unknown", request_id: str = "") -> Response:
        started = self.clock()
        deadline = deadline if deadline is not None else started + 300
        cutoff = deadline - self.settings.deadline_margin_seconds  # streams end (error event + [DONE]) by then
        path = "/" + path.strip("/")
        request_id = request_id or new_id()
        record = {"request_id": request_id, "method": method, "path": path, "consumer": consumer}
        if self._cold:
            record["cold_start"], self._cold = True, False
        try:
            if path in ("/v1/chat/completions", "/chat/completions"):
                if method != "POST":
                    raise ProxyError(405, f"Method {method} is not allowed on {path}; use POST.", code="method_not_allowed")
                response = self._chat(headers, body, cutoff, record)
            elif path in ("/v1/responses", "/responses"):  # the Responses wire format on the same chat pipeline
                if method != "POST":
                    raise ProxyError(405, f"Method {method} is not allowed on {path}; use POST.", code="method_not_allowed")
                response = responses.handle(self.chat, self.settings, self.sealer, headers, body, cutoff, record)
            elif path in ("/v1/completions", "/completions"):  # legacy completions: SageMaker routes (core/completions.py)
                if method != "POST":
                    raise ProxyError(405, f"Method {method} is not allowed on {path}; use POST.", code="method_not_allowed")
                response = self._completions(body, cutoff, record)
            elif path in ("/v1/models", "/models") and method == "GET":
                response = json_response(200, self._models())
            elif path.startswith(("/v1/models/", "/models/")) and method == "GET":
                response = json_response(200, self._model(path.split("/models/", 1)[1]))
            elif path == "/health" and method == "GET":
                # seconds_left: the request's own deadline as the proxy sees it; behind the Web Adapter it must be below
                # the function's timeout (a smoke check that x-amzn-lambda-context is read)
                response = json_response(200, {"status": "ok", "routes": sorted(self.settings.routes), "guardrail": "on" if self.guardrail else "off", "seconds_left": round(deadline - started, 1)})
            else:
                raise ProxyError(404, f"Unknown request URL: {method} {path}.", code="unknown_url")
        except ProxyError as err:
            response = error_response(err)
            record.update(error=err.code)
        except Exception as err:  # never leak a traceback: an unexpected failure is a 500 with an OpenAI body
            response = error_response(ProxyError(500, "The proxy hit an internal error.", type="api_error", code="internal_error"))
            record.update(error=err.__class__.__name__)
        record.update(status=response.status, latency_ms=round((self.clock() - started) * 1000, 1))
        response.headers["x-request-id"] = request_id
        if record.get("route"):
            response.headers.setdefault("x-gptoss-route", record["route"])
        if record.get("model"):
            response.headers.setdefault("x-gptoss-model", record["model"])
        if not response.streaming:
            self.log(record)
        return response

    @staticmethod
    def _model_object(route: Route) -> dict:
        """OpenAI's model object. ``owned_by`` names the backend only: endpoint names and model ids stay inside."""
        return {"id": route.model, "object": "model", "created": 0, "owned_by": route.backend, "fallback": route.fallback}

    def _models(self) -> dict:
        return {"object": "list", "data": [self._model_object(r) for r in sorted(self.settings.routes.values(), key=lambda r: r.model)]}

    def _model(self, model: str) -> dict:
        route = self.settings.routes.get(model)
        if route is None:
            raise ProxyError(404, f"The model '{model}' does not exist or you do not have access to it.", param="model", code="model_not_found")
        return self._model_object(route)

    # ---- chat ------------------------------------------------------------------------------------------

    def _chat(self, headers: Mapping[str, str], raw: bytes, deadline: float, record: dict) -> Response:
        return self.chat(headers, parse_json(raw, self.settings), deadline, record)

    def chat(self, headers: Mapping[str, str], body: dict, deadline: float, record: dict) -> Response:
        """The chat pipeline over a request dict: validation, input guardrail, handoff, the backend call with
        retries and fallback, output guardrail; a stream's parts are ``wire.SSEPart``s (bytes that keep their
        dict) and the stream writes the request's log record at its end. Both wire formats call this."""
        escalate_header = str(headers.get("x-gptoss-escalate", "")).lower() == "true"
        request = validate(body, self.settings, escalate_header, consumer=record["consumer"])
        record.update(route=request.route.model, stream=request.stream)
        guard = self._guard()
        try:
            request.body, record["guardrail_input"] = guard.check_input(request.body)
        except ProxyError:
            record["guardrail_input"] = guard.actions.get("input", "unavailable")  # blocked / refused / unavailable
            raise
        request, offer_to, direct = self._handoff_plan(request, headers, record)
        if request.stream:
            events = self._stream(request, guard, deadline, record, offer_to)
            response = open_stream(_legacy_function_stream(events) if request.legacy_functions else events)
            response.headers.update(direct)
            return response
        raw_response, route = self._fetch(request, deadline, record, stream=False, offer_to=offer_to)
        completion = self._completion(raw_response, request, route)
        message = completion["choices"][0]["message"]
        reason = handoff.split_calls(message)  # the handoff tool never reaches the client
        if reason is not None and offer_to == route.model:
            handed = self._hand_off(request, guard, reason, record)
            raw_response, route = self._fetch(handed, deadline, record, stream=False)
            first_usage, completion = completion.get("usage"), self._completion(raw_response, handed, route)
            completion["usage"] = handoff.add_usage(first_usage, completion.get("usage"))
            direct = self._handoff_headers(request.route.model, route.model, record["handoff_reason"])
        elif reason is not None and not message.get("tool_calls"):
            completion["choices"][0]["finish_reason"] = "stop"
        record.pop("handoff_reason", None)  # model text: never logged
        for choice in completion["choices"]:  # n > 1: every choice
            self._guard_choice(guard, choice)
        if request.legacy_functions:
            for choice in completion["choices"]:
                to_legacy_function_call(choice)
        record.update(guard.log_fields())
        record.update(model=route.model, **_usage_fields(completion.get("usage")))
        return json_response(200, completion, direct)

    def _guard(self) -> Guard:
        """One request's guardrail, with the operator's batch sizes (``guardrail_first_batch_chars`` 0: no small first batch)."""
        return Guard(self.guardrail, batch_chars=self.settings.guardrail_batch_chars, fast=self.settings.guardrail_stream_mode == "fast",
                     first_batch_chars=self.settings.guardrail_first_batch_chars or self.settings.guardrail_batch_chars)

    # ---- legacy completions (core/completions.py) ---------------------------------------------------------

    def _completions(self, raw: bytes, deadline: float, record: dict) -> Response:
        request = completions.validate(parse_json(raw, self.settings), self.settings)
        record.update(route=request.route.model, stream=request.stream)
        guard = self._guard()
        prompts, record["guardrail_input"] = request.prompts, "off"
        if guard.enabled:
            prompts, masked, blocked = guard.check_texts("INPUT", request.prompts)
            record["guardrail_input"] = "blocked" if blocked else "masked" if masked else "none"
            if blocked:
                raise ProxyError(400, blocked, param=None, code="content_filter")
        chain, route = [], request.route
        while route is not None and route.model not in {r.model for r in chain}:  # the route and its SageMaker fallbacks
            chain.append(route)
            route = self.settings.routes.get(route.fallback) if route.fallback else None
        candidates = [r for r in chain if r.backend == "sagemaker"]
        if request.stream:
            return open_stream(self._completion_stream(request, prompts[0], guard, deadline, record, candidates))
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for i, prompt in enumerate(prompts):
            answer, route = self._call(None, deadline, stream=False, candidates=candidates, body_for=lambda r, p=prompt: completions.backend_body(request, p, False))
            try:
                text, finish = completions.text_of(answer)
            except ValueError as err:
                raise ProxyError(502, f"The model backend returned an unusable answer ({err}).", type="api_error", code="backend_error") from None
            usage = answer.get("usage") or {}
            prompt_tokens += int(usage.get("prompt_tokens", 0))
            completion_tokens += int(usage.get("completion_tokens", 0))
            if guard.enabled and text:
                checked, masked, blocked = guard.check_texts("OUTPUT", [text])
                guard.note("content", "blocked" if blocked else "masked" if masked else "none")
                text, finish = (blocked, "content_filter") if blocked else (checked[0], finish)
            choices.append(completions.choice(i, text, finish or "stop"))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        record.update(guard.log_fields())
        record.update(model=route.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, reasoning_tokens=0)
        return json_response(200, completions.completion(completions.new_id(), route.model, choices, usage))

    def _completion_stream(self, request, prompt: str, guard: Guard, deadline: float, record: dict, candidates: list[Route]) -> Iterator[bytes]:
        completion_id = completions.new_id()
        try:
            chunks, route = self._call(None, deadline, stream=True, candidates=candidates, body_for=lambda r: completions.backend_body(request, prompt, True))
        except BackendError as err:
            raise err.to_proxy_error() from None
        model = route.model
        record["model"] = model
        text_guard = guard.stream("content")
        finish, usage = None, None

        def part(text: str = "", end: str | None = None) -> bytes:
            return sse(completions.completion(completion_id, model, [completions.choice(0, text, end)], None) | {"usage": None})

        yield provisional(completions.completion(completion_id, model, [completions.choice(0, "", None)], None) | {"usage": None})
        try:
            for raw in _bounded(iter(chunks), deadline, self.clock, getattr(chunks, "abort", None)):
                usage = raw.get("usage") or usage
                text, end = completions.text_of(raw)
                finish = end or finish
                released = text_guard.feed(text) if text else ""
                if released:
                    yield part(released)
            rest = text_guard.flush()
            if rest:
                yield part(rest)
            yield part("", finish or "stop")
        except ContentBlocked as blocked:
            yield part(blocked.message)
            yield part("", "content_filter")
        except (BackendError, ProxyError) as err:
            proxy_err = err.to_proxy_error() if isinstance(err, BackendError) else err
            record.update(error=proxy_err.code)
            yield failure_event(proxy_err)
        except ValueError:
            record.update(error="backend_error")
            yield failure_event(ProxyError(502, "The model backend returned an unusable answer.", type="api_error", code="backend_error"))
        record.update(guard.log_fields())
        final = usage_of(usage)
        record.update(model=model, **_usage_fields(final))
        self.log(record)
        if request.include_usage and final:
            yield sse(completions.completion(completion_id, model, [], {k: final[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")}))
        yield sse("[DONE]")

    @staticmethod
    def _completion(raw_response: dict, request: ChatRequest, route: Route) -> dict:
        try:
            return completion_from_backend(raw_response, request, route.model, route.backend)
        except ValueError as err:
            raise ProxyError(502, f"The model backend returned an unusable answer ({err}).", type="api_error", code="backend_error") from None

    # ---- handoff (seed 002, core/handoff.py) ------------------------------------------------------------

    def _handoff_plan(self, request: ChatRequest, headers: Mapping[str, str], record: dict) -> tuple[ChatRequest, str | None, dict]:
        """Whether the request's model is offered the handoff tool (the route name it is offered on), or goes to the
        handoff route at once (reasoning_effort high, when the operator says so); returns the request to send,
        the route offered the tool, and response headers for a direct handoff. Requests for several choices
        (n > 1) or for structured output are not offered the tool (``handoff.structured``)."""
        if handoff.opted_out(headers) or request.body.get("n", 1) != 1 or handoff.structured(request.body):
            request.handoff = False
        target = handoff.target_of(request, self.settings)
        if target is None:
            return request, None, {}
        if not self.handoffs.allowed(record["consumer"], self.settings.handoff_daily_cap):
            record["handoff_capped"] = True
            return request, None, {}
        if self.settings.handoff_on_high_effort and request.body.get("reasoning_effort") == "high":
            record.update(handoff=1, handoff_from=request.route.model, handoff_to=target.model)
            self.handoffs.add(record["consumer"])
            return handoff.handed_request(request, target, handoff.HIGH_EFFORT_REASON), None, self._handoff_headers(request.route.model, target.model, handoff.HIGH_EFFORT_REASON)
        return request, request.route.model, {}

    def _hand_off(self, request: ChatRequest, guard: Guard, reason: str, record: dict) -> ChatRequest:
        """The model called the handoff tool: its reason passes the guardrail like any output (masked, or
        withheld when blocked), then the original conversation goes to the handoff route with it."""
        try:
            reason, _ = guard.check_output(reason)
        except ContentBlocked:
            reason = handoff.WITHHELD_REASON
        target = self.settings.routes[request.route.handoff]
        record.update(handoff=1, handoff_from=request.route.model, handoff_to=target.model, handoff_reason=reason)
        self.handoffs.add(record["consumer"])
        return handoff.handed_request(request, target, reason)

    @staticmethod
    def _handoff_headers(source: str, target: str, reason: str) -> dict[str, str]:
        return {"x-gptoss-handoff": f"{source} -> {target}", "x-gptoss-handoff-reason": handoff.header_value(reason)}

    @staticmethod
    def _guard_choice(guard: Guard, choice: dict) -> None:
        """Checks one choice's output (in place). Log probabilities carry the raw tokens, so they are dropped
        whenever the guardrail changed or withheld anything."""
        message = choice["message"]
        try:
            actions = guard.check_message(message)  # content, reasoning and tool calls, masked in place
            changed = "masked" in actions.values()
        except ContentBlocked as blocked:
            message.pop("reasoning_content", None)
            message.pop("tool_calls", None)
            message["content"] = blocked.message
            choice["finish_reason"] = "content_filter"
            changed = True
        if changed:
            choice["logprobs"] = None

    def _candidates(self, request: ChatRequest) -> list[Route]:
        """The route and its fallbacks, leaving out those that cannot honour the request (e.g. logprobs on Bedrock)."""
        chain, route, seen = [], request.route, set()
        while route is not None and route.model not in seen:
            chain.append(route)
            seen.add(route.model)
            route = self.settings.routes.get(route.fallback) if route.fallback else None
        chain = chain[1:] if request.escalate and len(chain) > 1 else chain
        capable = [r for r in chain if unsupported_on(r, request.vllm_only_fields()) is None]
        if not capable:
            raise unsupported_on(chain[0], request.vllm_only_fields())
        return capable

    def _fetch(self, request: ChatRequest, deadline: float, record: dict, *, stream: bool, offer_to: str | None = None):
        """``_call``, with the request's reasoning budget enforced (core/budget.py, core/harmony.py): a non-stream
        request with a budget is streamed from the backend and gathered."""
        if request.budget is None:
            return self._call(request, deadline, stream=stream, offer_to=offer_to)
        if request.route.budget_mode == "harmony" and offer_to is None and harmony.renderable(request.body):
            try:
                enforced = self._harmony(request, deadline, record)
            except BackendError as err:
                raise err.to_proxy_error() from None
            return (enforced, request.route) if stream else (self._collected(enforced), request.route)
        chunks, route = self._call(request, deadline, stream=True, offer_to=offer_to)
        body = backend_body(request, True, route)
        if route.model == offer_to:
            body = handoff.offer(body)

        def reask(next_body: dict) -> Iterator[dict]:
            return self.backends[route.backend].stream(route, next_body, max(1.0, deadline - self.clock()))

        enforced = budget.enforce(chunks, request.budget, body, reask, inline=route.backend == "bedrock",
                                  prompt_estimate=request.estimated_prompt_tokens, record=record)
        return (enforced if stream else self._collected(enforced)), route

    @staticmethod
    def _collected(chunks: Iterator[dict]) -> dict:
        try:
            return budget.collect(chunks)
        except BackendError as err:
            raise err.to_proxy_error() from None

    def _harmony(self, request: ChatRequest, deadline: float, record: dict) -> Iterator[dict]:
        """Exact budget forcing on the route's own endpoint (core/harmony.py); the first call is made here, so a
        refusal is an error before any byte is sent."""
        route = request.route
        call = lambda body: self.backends[route.backend].stream(route, body, max(1.0, deadline - self.clock()))  # noqa: E731
        record["budget_mode"] = "harmony"
        chunks = harmony.force(request.body, request.budget, call, record=record, date=time.strftime("%Y-%m-%d", time.gmtime()))
        first = next(chunks, None)
        return _chain(first, chunks)

    def _call(self, request: ChatRequest | None, deadline: float, *, stream: bool, offer_to: str | None = None,
              candidates: list[Route] | None = None, body_for: Callable[[Route], dict] | None = None):
        """Calls the route (retrying throttles with backoff + jitter within the deadline), then its fallbacks.
        ``offer_to``: the route whose model is offered the handoff tool (its fallbacks are not). ``candidates`` and
        ``body_for``: another wire format's routes and bodies (legacy completions)."""
        last: BackendError | None = None
        for route in candidates if candidates is not None else self._candidates(request):
            body = body_for(route) if body_for is not None else backend_body(request, stream, route)
            if route.model == offer_to:
                body = handoff.offer(body)
            for attempt in range(self.settings.max_retries + 1):
                remaining = deadline - self.clock()
                if remaining <= 1:
                    break
                try:
                    backend = self.backends[route.backend]
                    result = _Peeked(backend.stream(route, body, remaining)) if stream else backend.complete(route, body, remaining)
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

    def _stream(self, request: ChatRequest, guard: Guard, deadline: float, record: dict, offer_to: str | None = None) -> Iterator[bytes]:
        completion_id, created = new_id(), int(time.time())
        try:
            chunks, route = self._fetch(request, deadline, record, stream=True, offer_to=offer_to)
            source = _bounded(iter(chunks), deadline, self.clock, getattr(chunks, "abort", None))
            first = next(source, None)  # a failure before the first chunk can still fall back / return an error
        except BackendError as err:
            raise err.to_proxy_error() from None  # nothing was sent: open_stream answers with this status
        model = route.model
        record["model"] = model
        splitter = ReasoningSplitter() if route.backend == "bedrock" else None
        fields = StreamFields(guard)  # reasoning, content and tool calls released in the model's order
        finish, usage, reasoning_chars = None, None, 0
        calls = handoff.StreamedCalls()  # handoff tool calls taken out of the stream
        released, sent_calls, first_usage = False, False, None  # text or a tool call was sent: a later handoff is ignored
        yield provisional(chunk(completion_id, model, created, {"role": "assistant", "content": ""}))
        try:
            while True:
                for raw in _chain(first, source):
                    if raw is None:
                        continue
                    if raw.get("usage"):
                        usage = raw["usage"]
                    for choice in raw.get("choices") or []:
                        delta = choice.get("delta") or {}
                        reasoning, content = delta_texts(delta, splitter)
                        reasoning_chars += len(reasoning)
                        for out in fields.feed(reasoning, content, calls.take(delta.get("tool_calls"))):
                            sent_calls = sent_calls or bool(out.get("tool_calls"))
                            released = released or sent_calls or bool(out.get("content"))
                            yield sse(chunk(completion_id, model, created, out))
                        finish = choice.get("finish_reason") or finish
                        if choice.get("finish_reason"):
                            for out in fields.finish_calls():
                                sent_calls, released = sent_calls or bool(out.get("tool_calls")), True
                                yield sse(chunk(completion_id, model, created, out))
                if calls.reason is None:
                    break
                if released or offer_to != route.model:  # text (fast mode) or a tool call went out: the answer stands
                    record["handoff_ignored"] = True
                    finish = "stop" if finish == "tool_calls" and not sent_calls else finish
                    break
                # hand off: the small model's reasoning so far is released, its unreleased text dropped
                if splitter is not None:
                    inline, _ = splitter.finish()
                    reasoning_chars += len(inline)
                    for out in fields.feed(inline, "", None):
                        yield sse(chunk(completion_id, model, created, out))
                text = fields.reasoning.flush()
                if text:
                    yield sse(chunk(completion_id, model, created, {"reasoning_content": text}))
                handed = self._hand_off(request, guard, calls.reason, record)
                first_usage = usage_of(usage, reasoning_chars)
                chunks, route = self._fetch(handed, deadline, record, stream=True)
                notice = handoff.stream_notice(request.route.model, route.model, record["handoff_reason"])
                yield sse({**chunk(completion_id, route.model, created, {}), "x_gptoss_handoff": notice})
                source = _bounded(iter(chunks), deadline, self.clock, getattr(chunks, "abort", None))
                first, model, offer_to = None, route.model, None
                record["model"] = model
                splitter = ReasoningSplitter() if route.backend == "bedrock" else None
                fields, calls, finish, usage, reasoning_chars = StreamFields(guard), handoff.StreamedCalls(), None, None, 0
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
            yield failure_event(proxy_err)
        except Exception as err:  # mid-stream surprise: end the stream with an error event, never hang
            record.update(error=err.__class__.__name__)
            yield failure_event(ProxyError(500, "The proxy hit an internal error mid-stream.", type="api_error", code="internal_error"))
        record.update(guard.log_fields())
        final_usage = handoff.add_usage(first_usage, usage_of(usage, reasoning_chars))
        record.pop("handoff_reason", None)  # model text: never logged
        # logged before the last events: a client that hangs up after [DONE] (SDKs stop reading there) closes this
        # generator at its next yield, and the record must not be lost with it
        record.update(model=model, **_usage_fields(final_usage))
        self.log(record)
        if request.include_usage and final_usage:
            yield sse(chunk(completion_id, model, created, usage=final_usage))
        yield sse("[DONE]")


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
