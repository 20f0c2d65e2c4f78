"""Issue 17 items 1, 3, 4 and issue 13 item 7, with the real OpenAI SDK (and raw HTTP where the SDK hides the
status): stream failures before the first byte are real HTTP statuses, `models.retrieve`, the route / model /
request-id headers on every response, and the Lambda deadline.
"""

from __future__ import annotations

import json
import random
import time
import urllib.request

import openai
import pytest

from gptoss_proxy.core.errors import BackendThrottled
from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings
from tests.proxy.conftest import post

USER = [{"role": "user", "content": "hello there"}]


def _events(body: bytes) -> list[str]:
    return [line[6:] for line in body.decode().split("\n") if line.startswith("data: ")]


class TestStreamStatusBeforeTheFirstByte:
    """The SDK maps an HTTP status to its error classes and retries 429/5xx honouring Retry-After
    (openai-python `_base_client.py`: `_should_retry`, `_parse_retry_after_header`, `_calculate_retry_timeout`;
    `_exceptions.py` maps 429 → RateLimitError, ≥500 → InternalServerError). It can only do so when the status
    line carries the failure, so a stream that fails before its first committed part must not answer 200."""

    def test_throttled_stream_raises_rate_limit_error_with_retry_after(self, client):
        with pytest.raises(openai.RateLimitError) as err:
            for _ in client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "[[throttle]]"}], stream=True):
                pass
        assert err.value.status_code == 429 and int(err.value.response.headers["retry-after"]) >= 1
        assert err.value.body["code"] == "rate_limit_exceeded"

    @pytest.mark.parametrize(
        ("prompt", "status", "code"),
        [
            ("[[error]]", 502, "backend_error"),  # the model failed before answering
            ("[[nocapacity]]", 503, "model_capacity"),  # no capacity on the route and its fallback
            ("[[midstream-error]]", 502, "backend_error"),  # failed after the role chunk, before any checked text left
        ],
    )
    def test_failed_stream_raises_the_sdks_status_error(self, client, prompt, status, code):
        with pytest.raises(openai.InternalServerError) as err:
            for _ in client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": prompt}], stream=True):
                pass
        assert err.value.status_code == status and err.value.body["code"] == code

    @pytest.mark.parametrize(("model", "prompt", "error"), [("gpt-5", "hi", openai.NotFoundError), ("gpt-oss-20b", "[[block-input]] hi", openai.BadRequestError)])
    def test_a_stream_refused_up_front_raises_the_sdks_status_error(self, client, model, prompt, error):
        with pytest.raises(error):
            for _ in client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}], stream=True):
                pass

    def test_raw_http_gets_the_status_and_openai_error_body_not_sse(self, proxy_url):
        status, headers, body = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-120b", "stream": True, "messages": [{"role": "user", "content": "[[throttle]]"}]})
        assert status == 429 and headers["Content-Type"] == "application/json" and int(headers["Retry-After"]) >= 1
        assert json.loads(body) == {"error": {"message": "the model backend is throttling requests (ThrottlingException)", "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}}

    def test_stream_that_times_out_before_any_text_is_504(self, proxy_env):
        """botocore raises ReadTimeoutError when a read waits longer than Config.read_timeout (botocore/config.py,
        `read_timeout`); the emulator stalls the stream after half its parts (inside the reasoning, before the
        guardrail's first batch is complete), the backend timeout is 0.3 s."""
        from gptoss_proxy.wiring import build_service

        service = build_service({**proxy_env, "GPTOSS_BACKEND_TIMEOUT_SECONDS": "0.3"})
        body = json.dumps({"model": "gpt-oss-120b", "stream": True, "reasoning_effort": "low", "messages": [{"role": "user", "content": "[[stall]] hi"}]}).encode()
        response = service.handle("POST", "/v1/chat/completions", {}, body)
        assert response.status == 504 and not response.streaming
        assert json.loads(response.body)["error"]["code"] == "backend_timeout"

    def test_sdk_retries_a_throttled_stream_after_retry_after(self, proxy_url, stats, monkeypatch):
        import openai._base_client as base

        slept = []
        monkeypatch.setattr(base.time, "sleep", slept.append)  # record the SDK's waits instead of waiting
        sdk = openai.OpenAI(base_url=f"{proxy_url}/v1", api_key="x", max_retries=2, timeout=30)
        with pytest.raises(openai.RateLimitError):
            for _ in sdk.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "[[throttle]]"}], stream=True):
                pass
        assert slept == [2.0, 2.0]  # the proxy's Retry-After, not the SDK's own backoff (0.5 s, 1 s with jitter)
        assert stats()["calls"]["bedrock:openai.gpt-oss-120b-1:0:stream"] == 3 * 2  # 3 SDK attempts x (1 + 1 proxy retry)

    @pytest.mark.parametrize("when", ["call", "first_chunk"])
    @pytest.mark.parametrize(
        ("error", "status", "retry_after"),
        [("BackendRejected", 400, None), ("BackendThrottled", 429, "2"), ("BackendFailure", 502, None), ("BackendCapacity", 503, "60"), ("BackendTimeout", 504, None)],
    )
    def test_every_backend_failure_before_the_first_byte_is_its_status(self, when, error, status, retry_after):
        from gptoss_proxy.core import errors

        failure = getattr(errors, error)("the backend said no")

        class Failing:
            def stream(self, route, body, timeout):
                if when == "call":
                    raise failure

                def chunks():
                    raise failure
                    yield  # a generator that fails on its first chunk

                return chunks()

        clock = _Clock()
        settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"m": {"backend": "sagemaker", "endpoint_name": "e"}}), "GPTOSS_MAX_RETRIES": "0"})
        service = ProxyService(settings, {"sagemaker": Failing()}, clock=clock, sleep=clock.sleep)
        response = service.handle("POST", "/v1/chat/completions", {}, json.dumps({"model": "m", "stream": True, "messages": USER}).encode(), deadline=100)
        assert response.status == status and not response.streaming and response.headers.get("Retry-After") == retry_after
        assert set(json.loads(response.body)["error"]) == {"message", "type", "param", "code"}

    def test_bedrock_in_stream_throttling_is_retried_then_429(self, client, stats):
        """Bedrock's InvokeModelWithResponseStream reports throttling as a `throttlingException` event in the
        stream (bedrock-runtime service model, `ResponseStream` members; botocore raises EventStreamError whose
        code is the `:exception-type`, botocore/parsers.py)."""
        with pytest.raises(openai.RateLimitError) as err:
            for _ in client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "[[stream-throttle]]"}], stream=True):
                pass
        assert err.value.status_code == 429 and err.value.response.headers["retry-after"]
        assert stats()["calls"]["bedrock:openai.gpt-oss-120b-1:0:stream"] == 2  # retried once (GPTOSS_MAX_RETRIES=1)

    def test_a_stream_failing_on_its_first_event_falls_back(self):
        from gptoss_proxy.core.errors import BackendCapacity

        class NoCapacity:
            def stream(self, route, body, timeout):
                def chunks():
                    raise BackendCapacity("scaled to zero")
                    yield

                return chunks()

        class Answers:
            def stream(self, route, body, timeout):
                return iter([{"choices": [{"index": 0, "delta": {"content": "from big"}, "finish_reason": "stop"}]}])

        clock = _Clock()
        settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"small": {"backend": "sagemaker", "endpoint_name": "e", "fallback": "big"}, "big": {"backend": "bedrock", "model_id": "m"}})})
        service = ProxyService(settings, {"sagemaker": NoCapacity(), "bedrock": Answers()}, clock=clock, sleep=clock.sleep)
        response = service.handle("POST", "/v1/chat/completions", {}, json.dumps({"model": "small", "stream": True, "messages": USER}).encode(), deadline=100)
        events = _events(b"".join(response.body))
        assert response.status == 200 and response.headers["x-gptoss-model"] == "big" and json.loads(events[0])["model"] == "big"

    def test_after_the_first_byte_a_failure_is_an_sse_error_event_then_done(self, proxy_url):
        status, headers, body = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-20b", "stream": True, "messages": [{"role": "user", "content": "[[midstream-error]] [[long:3000]]"}]})
        events = _events(body)
        assert status == 200 and events[-1] == "[DONE]" and json.loads(events[-2])["error"]["code"] == "backend_error"
        assert any((json.loads(e).get("choices") or [{}])[0].get("delta", {}).get("content") for e in events[:-2])


class TestModels:
    def test_retrieve_returns_the_model_with_its_backend_only(self, client):
        model = client.models.retrieve("gpt-oss-20b")
        assert (model.id, model.object, model.owned_by) == ("gpt-oss-20b", "model", "sagemaker")
        assert "gptoss-20b-dev" not in model.model_dump_json()

    def test_retrieve_unknown_model_is_404_with_openai_body(self, client):
        with pytest.raises(openai.NotFoundError) as err:
            client.models.retrieve("gpt-5")
        assert err.value.body["code"] == "model_not_found" and err.value.body["param"] == "model"


class TestHeaders:
    def test_stream_headers_name_route_model_and_request_id(self, client):
        raw = client.chat.completions.with_raw_response.create(model="gpt-oss-20b", messages=USER, stream=True)
        assert raw.headers["x-gptoss-route"] == "gpt-oss-20b" and raw.headers["x-gptoss-model"] == "gpt-oss-20b"
        assert raw.headers["x-request-id"].startswith("chatcmpl-") or raw.headers["x-request-id"]
        assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == "Echo: hello there"

    def test_streamed_fallback_names_the_model_that_answered(self, client):
        raw = client.chat.completions.with_raw_response.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[nocapacity@sagemaker]] hi"}], stream=True)
        assert raw.headers["x-gptoss-route"] == "gpt-oss-20b" and raw.headers["x-gptoss-model"] == "gpt-oss-120b"

    def test_request_id_is_the_front_doors(self, client):
        """The Lambda Web Adapter forwards API Gateway's request context as JSON in `x-amzn-request-context`
        (awslabs/aws-lambda-web-adapter src/lib.rs `fetch_response`; docs/guide/src/features/request-context.md),
        whose `requestId` is the front door's id (API Gateway developer guide, "Input format of a Lambda function
        for proxy integration", https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)."""
        context = json.dumps({"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"userArn": "arn:aws:iam::111122223333:role/app"}})
        raw = client.chat.completions.with_raw_response.create(model="gpt-oss-120b", messages=USER, extra_headers={"x-amzn-request-context": context})
        assert raw.headers["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def test_request_id_falls_back_to_the_invocation_id(self, client):
        raw = client.models.with_raw_response.list(extra_headers={"x-amzn-lambda-context": json.dumps({"request_id": "inv-1", "deadline": int(time.time() * 1000) + 60_000})})
        assert raw.headers["x-request-id"] == "inv-1"

    def test_buffered_handler_answers_with_the_front_doors_request_id(self, proxy_env):
        """API Gateway puts its request id in the proxy event's `requestContext.requestId` (API Gateway developer
        guide, "Input format of a Lambda function for proxy integration",
        https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)."""
        import handler as module

        class Context:
            aws_request_id = "invocation-1"

            def get_remaining_time_in_millis(self):
                return 60_000

        module.SERVICE = None
        event = {"httpMethod": "GET", "path": "/v1/models", "headers": {}, "requestContext": {"requestId": "apigw-1", "identity": {}}, "body": None}
        assert module.lambda_handler(event, Context())["headers"]["x-request-id"] == "apigw-1"
        event["requestContext"].pop("requestId")
        assert module.lambda_handler(event, Context())["headers"]["x-request-id"] == "invocation-1"

    def test_errors_carry_the_request_id_and_route(self, proxy_url):
        status, headers, _ = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-120b", "messages": [{"role": "user", "content": "[[error]]"}]})
        assert status == 502 and headers["x-request-id"] and headers["x-gptoss-route"] == "gpt-oss-120b"


class TestLambdaDeadline:
    """The Web Adapter puts the invocation context in `x-amzn-lambda-context` (awslabs/aws-lambda-web-adapter
    src/lib.rs, `fetch_response`): the JSON of `lambda_runtime::Context`, whose `deadline` is epoch milliseconds
    (awslabs/aws-lambda-rust-runtime lambda-runtime/src/types.rs, filled from `lambda-runtime-deadline-ms`)."""

    def test_invocation_reads_the_deadline_and_request_id(self):
        from http_server import invocation

        headers = {"x-amzn-lambda-context": json.dumps({"request_id": "r-1", "deadline": 1_700_000_030_000, "invoked_function_arn": "arn:aws:lambda:us-east-1:1:function:f"})}
        deadline, request_id = invocation(headers, wall=lambda: 1_700_000_000.0, mono=lambda: 50.0)
        assert deadline == pytest.approx(80.0) and request_id == "r-1"

    def test_invocation_accepts_the_adapter_guides_deadline_ms_and_defaults_without_header(self):
        from http_server import DEFAULT_REQUEST_SECONDS, invocation

        assert invocation({"x-amzn-lambda-context": '{"deadline_ms": 1700000010000}'}, wall=lambda: 1_700_000_000.0, mono=lambda: 0.0)[0] == pytest.approx(10.0)
        assert invocation({"x-amzn-lambda-context": '{"deadline": "1700000010000"}'}, wall=lambda: 1_700_000_000.0, mono=lambda: 0.0)[0] == pytest.approx(10.0)
        assert invocation({"x-amzn-lambda-context": "not json"}, mono=lambda: 0.0) == (DEFAULT_REQUEST_SECONDS, "")
        assert invocation({}, mono=lambda: 0.0) == (DEFAULT_REQUEST_SECONDS, "")

    def test_health_shows_the_deadline_the_proxy_sees(self, proxy_url):
        context = json.dumps({"request_id": "r-3", "deadline": int(time.time() * 1000) + 42_000})
        req = urllib.request.Request(f"{proxy_url}/health", headers={"x-amzn-lambda-context": context})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert 40 <= json.loads(resp.read())["seconds_left"] <= 42

    def test_the_server_plans_within_the_forwarded_deadline(self, proxy_url, stats):
        """5 s before the deadline is inside the 10 s margin: no backend call is started."""
        context = json.dumps({"request_id": "r-2", "deadline": int(time.time() * 1000) + 5_000})
        status, _, body = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-20b", "messages": USER}, {"x-amzn-lambda-context": context})
        assert status == 504 and json.loads(body)["error"]["code"] == "backend_timeout"
        assert not any(k.startswith(("sagemaker", "bedrock")) for k in stats()["calls"])

    def test_a_stream_that_cannot_finish_ends_with_an_error_event_and_done_before_the_deadline(self):
        clock = _Clock()
        backend = _SlowStream(clock, parts=50, seconds_per_part=1.0)
        service = _service(backend, clock)
        body = json.dumps({"model": "m", "stream": True, "messages": USER}).encode()
        response = service.handle("POST", "/v1/chat/completions", {}, body, deadline=30.0)  # margin 10 s: cut at 20 s
        events = _events(b"".join(response.body))
        assert response.status == 200 and events[-1] == "[DONE]"
        assert json.loads(events[-2])["error"] == {"message": "The request reached the platform's time limit before the model finished; the answer ends here.", "type": "timeout", "param": None, "code": "request_deadline"}
        assert clock.now <= 20.0 and backend.sent < 50

    def test_a_stream_cut_before_its_first_byte_is_a_504(self):
        clock = _Clock()
        clock.now = 18.5  # the first part would arrive at 20.5 s, past the cut at 20 s
        service = _service(_SlowStream(clock, parts=5, seconds_per_part=2.0), clock)
        body = json.dumps({"model": "m", "stream": True, "messages": USER}).encode()
        response = service.handle("POST", "/v1/chat/completions", {}, body, deadline=30.0)
        assert response.status == 504 and json.loads(response.body)["error"]["code"] == "request_deadline"

    def test_retries_do_not_plan_past_the_margin(self):
        clock = _Clock()

        class Throttled:
            calls = 0

            def stream(self, route, body, timeout):
                Throttled.calls += 1
                assert timeout <= 20.0 - clock.now  # the adapter is given the time left before the cut
                raise BackendThrottled()

        settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"m": {"backend": "sagemaker", "endpoint_name": "e"}}), "GPTOSS_MAX_RETRIES": "50"})
        service = ProxyService(settings, {"sagemaker": Throttled()}, clock=clock, sleep=clock.sleep, rng=random.Random(1))
        response = service.handle("POST", "/v1/chat/completions", {}, json.dumps({"model": "m", "stream": True, "messages": USER}).encode(), deadline=30.0)
        assert response.status == 429 and clock.now < 20.0 and 1 < Throttled.calls < 50


class TestStalledModel:
    """A model that goes silent mid-answer: the deadline watchdog aborts the backend read at the cutoff, so the
    stream still ends with an error event and [DONE] before Lambda's deadline (a read timeout chosen at the start
    of the call could outlast it)."""

    def test_the_watchdog_aborts_a_stalled_stream_and_ends_it_with_an_error_event(self):
        import threading

        clock = _Clock()

        class Stalling:
            def __init__(self):
                self.released, self.aborted = threading.Event(), False

            def stream(self, route, body, timeout):
                clock.now += 1.3  # the model took 1.3 s to start answering: the cut (at 1.5 s) is 0.2 s away
                backend = self

                class Chunks:
                    def __iter__(self):
                        yield {"choices": [{"index": 0, "delta": {"content": "first words "}, "finish_reason": None}]}
                        backend.released.wait(30)  # the model hangs until aborted
                        if backend.aborted:
                            raise ConnectionError("connection shut down")
                        yield {"choices": [{"index": 0, "delta": {"content": "too late"}, "finish_reason": "stop"}]}

                    def abort(self):
                        backend.aborted = True
                        backend.released.set()

                return Chunks()

        backend = Stalling()
        settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"m": {"backend": "sagemaker", "endpoint_name": "e"}}), "GPTOSS_DEADLINE_MARGIN_SECONDS": "10"})
        service = ProxyService(settings, {"sagemaker": backend}, clock=clock, sleep=clock.sleep)
        body = json.dumps({"model": "m", "stream": True, "messages": USER}).encode()
        # cut at 1.5 s (a call needs > 1 s left); the fake clock stands still while the model hangs, so only the
        # watchdog, 0.2 s after the stall began, can end the stream
        response = service.handle("POST", "/v1/chat/completions", {}, body, deadline=11.5)
        events = _events(b"".join(response.body))
        assert response.status == 200 and backend.aborted
        assert events[-1] == "[DONE]" and json.loads(events[-2])["error"]["code"] == "request_deadline"
        assert "too late" not in "".join(events)

    @pytest.mark.parametrize("kind", ["sagemaker", "bedrock"])
    def test_abort_unblocks_a_read_on_a_stalled_backend_stream(self, proxy_env, stats, kind):
        """urllib3's HTTPResponse.shutdown() shuts the socket down so a read blocked in another thread returns
        (urllib3 src/urllib3/response.py, `shutdown`); botocore's EventStream reads that response."""
        import threading

        from gptoss_proxy.adapters.aws import BedrockBackend, SageMakerBackend
        from gptoss_proxy.core.settings import Route

        backend, route = (SageMakerBackend(300), Route("m", "sagemaker", "gptoss-20b-dev")) if kind == "sagemaker" else (BedrockBackend(300), Route("m", "bedrock", "openai.gpt-oss-120b-1:0"))
        chunks = backend.stream(route, {"messages": [{"role": "user", "content": "[[stall]] [[long:2000]]"}], "stream": True}, timeout=60)
        source = iter(chunks)
        assert next(source)["choices"]
        threading.Timer(0.2, chunks.abort).start()  # the read below blocks on the stalled model
        with pytest.raises(Exception):
            for _ in source:
                pass
        assert stats()["timelines"] == []  # the emulator was still stalled: the read did not wait for the rest


def test_the_watchdog_fires_due_alarms_in_order_and_never_a_cancelled_one():
    import threading

    from gptoss_proxy.core.service import Watchdog

    dog, fired, done = Watchdog(), [], threading.Event()
    dog.add(0.2, lambda: (fired.append("late"), done.set()))
    cancelled = dog.add(0.05, lambda: fired.append("cancelled"))
    dog.add(0.1, lambda: fired.append("early"))
    dog.cancel(cancelled)
    assert done.wait(10)
    assert fired == ["early", "late"]


class TestAdaptersHonourTheirTimeout:
    """botocore's `Config(read_timeout=...)` bounds each read from the connection (botocore/config.py docstring:
    "The time in seconds till a timeout exception is thrown when attempting to read from a connection")."""

    def test_read_timeout_never_exceeds_the_budget_or_the_limit(self):
        from gptoss_proxy.adapters.aws import read_timeout_for

        assert read_timeout_for(250.0, 300) == 240 and read_timeout_for(900, 300) == 300
        assert read_timeout_for(1.5, 300) == 1 and read_timeout_for(0.35, 300) == 0.3
        assert all(read_timeout_for(t / 7, 300) <= t / 7 for t in range(1, 3000))

    @pytest.mark.parametrize("kind", ["sagemaker", "bedrock"])
    def test_a_call_given_half_a_second_times_out_against_a_slow_model(self, proxy_env, kind):
        from gptoss_proxy.adapters.aws import BedrockBackend, SageMakerBackend
        from gptoss_proxy.core.errors import BackendTimeout
        from gptoss_proxy.core.settings import Route

        backend, route = (
            (SageMakerBackend(300), Route("m", "sagemaker", "gptoss-20b-dev")) if kind == "sagemaker" else (BedrockBackend(300), Route("m", "bedrock", "openai.gpt-oss-120b-1:0"))
        )
        with pytest.raises(BackendTimeout):
            backend.complete(route, {"messages": [{"role": "user", "content": "[[slow]] hi"}], "stream": False}, timeout=0.5)
        assert backend.complete(route, {"messages": [{"role": "user", "content": "[[slow]] hi"}], "stream": False}, timeout=5)["choices"]


def test_emulator_and_proxy_accept_a_burst_of_connections(proxy_url):
    """socketserver's listen backlog is `request_queue_size = 5` (CPython Lib/socketserver.py, TCPServer): raised
    to 1024 on the proxy's and the emulators' servers so bursts are queued, not reset."""
    from emulators.server import _Server
    from http_server import Server

    assert Server.request_queue_size == _Server.request_queue_size == 1024
    with urllib.request.urlopen(f"{proxy_url}/health", timeout=10) as resp:
        assert resp.status == 200


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class _SlowStream:
    """A backend whose stream sends one content delta per ``seconds_per_part`` of the fake clock."""

    def __init__(self, clock, parts, seconds_per_part):
        self.clock, self.parts, self.step, self.sent = clock, parts, seconds_per_part, 0

    def stream(self, route, body, timeout):
        def chunks():
            for i in range(self.parts):
                self.clock.now += self.step
                self.sent += 1
                yield {"choices": [{"index": 0, "delta": {"content": f"part {i} "}, "finish_reason": None}]}
            yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

        return chunks()


def _service(backend, clock):
    settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"m": {"backend": "sagemaker", "endpoint_name": "e"}})})
    return ProxyService(settings, {"sagemaker": backend}, clock=clock, sleep=clock.sleep)
