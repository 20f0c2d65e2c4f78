"""Issue 17 item 6: `POST /v1/responses` with the real OpenAI SDK (`client.responses.create`, `.stream`, `.parse`)
and raw SSE.

The contract is what the SDK parses: openai-python 2.54 `src/openai/types/responses/` (`response.py`,
`response_create_params.py`, `response_stream_event.py` and each `response_*_event.py`) and its stream helper
`src/openai/lib/streaming/responses/_responses.py` (`ResponseStreamState`: `response.created` must come first; deltas
are applied to the item at `output_index` / part at `content_index`). The request runs through the chat-completions
pipeline, so the guardrail, fallback, error and log behaviour asserted here is the chat one, seen through this route.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from pydantic import BaseModel, Field

from tests.proxy.conftest import post

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
MODELS = ["gpt-oss-20b", "gpt-oss-120b"]  # SageMaker (vLLM) and Bedrock routes


def _last_request(stats) -> dict:
    return stats()["model_requests"][-1]["body"]


def _sse(body: bytes) -> list[tuple[str, dict]]:
    """Raw SSE → (event line, data) pairs."""
    out = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "data" in lines:
            out.append((lines.get("event", ""), json.loads(lines["data"])))
    return out


def _strict(events: list[tuple[str, dict]]) -> None:
    """Validates each event strictly against openai-python's `ResponseStreamEvent` union (required fields, literals)."""
    from openai.types.responses import ResponseStreamEvent
    from pydantic import TypeAdapter

    adapter = TypeAdapter(ResponseStreamEvent)
    for _, data in events:
        adapter.validate_python(data)


@pytest.mark.parametrize("model", MODELS)
class TestCreate:
    def test_text_answer_with_reasoning_item_and_usage(self, client, stats, model):
        raw = client.responses.with_raw_response.create(model=model, input="hello there", instructions="Be brief.")
        r = raw.parse()
        assert r.object == "response" and r.status == "completed" and r.id.startswith("resp_")
        assert r.output_text == "Echo: hello there"
        assert [o.type for o in r.output] == ["reasoning", "message"]
        assert r.output[0].content[0].type == "reasoning_text" and "effort=medium" in r.output[0].content[0].text
        assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0 and r.usage.output_tokens_details.reasoning_tokens > 0
        assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
        assert r.store is False and r.instructions == "Be brief."
        assert raw.headers["x-gptoss-route"] == model and raw.headers["x-request-id"]
        sent = _last_request(stats)["messages"]
        # instructions: "A system (or developer) message inserted into the model's context" (response_create_params.py)
        assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]

    def test_parameters_reach_the_backend_as_chat_fields(self, client, stats, model):
        r = client.responses.create(model=model, input="hi", reasoning={"effort": "high"}, max_output_tokens=300, temperature=0.3, top_p=0.9, metadata={"team": "a"}, store=False)
        sent = _last_request(stats)
        assert sent["reasoning_effort"] == "high" and sent["temperature"] == 0.3 and sent["top_p"] == 0.9
        assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 300
        assert "metadata" not in sent  # OpenAI bookkeeping, not a model input
        assert r.reasoning.effort == "high" and r.metadata == {"team": "a"} and r.max_output_tokens == 300
        assert "effort=high" in r.output[0].content[0].text

    def test_tool_round_trip(self, client, stats, model):
        first = client.responses.create(model=model, input="What is the weather in Paris?", tools=[WEATHER], tool_choice="auto", parallel_tool_calls=False)
        calls = [o for o in first.output if o.type == "function_call"]
        assert len(calls) == 1 and calls[0].name == "get_weather" and json.loads(calls[0].arguments) == {"city": "Paris"}
        sent = _last_request(stats)
        # client tools first; a route with a handoff also offers its model `handoff_to_larger_model` (core/handoff.py)
        assert sent["tools"][0] == {"type": "function", "function": {k: WEATHER[k] for k in ("name", "description", "parameters")}}
        assert sent["parallel_tool_calls"] is False and sent["tool_choice"] == "auto"
        # the documented loop: send the output items back, plus a function_call_output for the call
        history = [{"role": "user", "content": "What is the weather in Paris?"}, *[o.model_dump(exclude_none=True) for o in first.output],
                   {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"}]
        second = client.responses.create(model=model, input=history, tools=[WEATHER])
        assert second.output_text == "The tool said: sunny, 21 C"
        messages = _last_request(stats)["messages"]
        call = {"role": "assistant", "content": "", "tool_calls": [{"id": calls[0].call_id, "type": "function", "function": {"name": "get_weather", "arguments": calls[0].arguments}}]}
        # the reasoning item sent back goes with the tool call it led to (harmony keeps it until the final answer):
        # vLLM reads it as `reasoning` (`reasoning_content` in older releases); Bedrock gets none (core/translate.py)
        thought = next(o for o in first.output if o.type == "reasoning").content[0].text
        assert messages[1] == ({**call, "reasoning": thought, "reasoning_content": thought} if model == "gpt-oss-20b" else call)
        assert messages[2] == {"role": "tool", "tool_call_id": calls[0].call_id, "content": "sunny, 21 C"}

    def test_named_tool_choice(self, client, stats, model):
        other = {**WEATHER, "name": "get_time"}
        r = client.responses.create(model=model, input="time?", tools=[WEATHER, other], tool_choice={"type": "function", "name": "get_time"})
        assert [o.name for o in r.output if o.type == "function_call"] == ["get_time"]
        assert _last_request(stats)["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}

    def test_structured_output_with_parse(self, client, stats, model):
        class Forecast(BaseModel):
            city: str
            readings: list[int] = Field(min_length=2)

        r = client.responses.parse(model=model, input="Forecast for Paris", text_format=Forecast)
        assert isinstance(r.output_parsed, Forecast) and len(r.output_parsed.readings) >= 2
        fmt = _last_request(stats)["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Forecast" and fmt["json_schema"]["strict"] is True


class TestInputItems:
    def test_message_items_with_content_parts_and_reasoning_items(self, client, stats):
        items = [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer in French."}]},
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "thinking"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Bonjour", "annotations": []}]},
            {"role": "user", "content": "again"},
        ]
        assert client.responses.create(model="gpt-oss-20b", input=items).output_text == "Echo: again"
        assert _last_request(stats)["messages"] == [
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "again"},
        ]

    def test_parallel_calls_share_one_assistant_turn(self, client, stats):
        items = [{"role": "user", "content": "two cities"},
                 {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
                 {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": '{"city":"Rome"}'},
                 {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
                 {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "rainy"}]}]
        client.responses.create(model="gpt-oss-20b", input=items, tools=[WEATHER])
        messages = _last_request(stats)["messages"]
        assert [c["id"] for c in messages[1]["tool_calls"]] == ["c1", "c2"]
        assert messages[2:] == [{"role": "tool", "tool_call_id": "c1", "content": "sunny"}, {"role": "tool", "tool_call_id": "c2", "content": "rainy"}]


class TestRefusedUpFront:
    """Stateless subset: OpenAI's default for `store` is to store ("Whether to store the generated model response for
    later retrieval via API", response_create_params.py; langchain-openai's `store` doc: "Defaults to True for the
    Responses API"). Nothing is stored here, so an omitted `store` means false and asking for storage is a 400."""

    @pytest.mark.parametrize(
        ("extra", "param"),
        [
            ({"store": True}, "store"),
            ({"previous_response_id": "resp_123"}, "previous_response_id"),
            ({"conversation": "conv_123"}, "conversation"),
            ({"background": True}, "background"),
            ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
            ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}]}, "input[0].content[0]"),
            ({"top_logprobs": 3}, "top_logprobs"),
            ({"max_output_tokens": 0}, "max_output_tokens"),
            ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
            ({"text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}}, "text.format.name"),
        ],
    )
    def test_fails_with_a_400_naming_the_field(self, client, stats, extra, param):
        with pytest.raises(openai.BadRequestError) as err:
            client.responses.create(**{"model": "gpt-oss-20b", "input": "hi", **extra})
        assert err.value.status_code == 400 and err.value.body["param"] == param, err.value.body
        assert not any(k.startswith(("sagemaker", "bedrock")) for k in stats()["calls"])

    def test_fails_on_a_field_openai_does_not_define(self, proxy_url):
        status, _, body = post(f"{proxy_url}/v1/responses", {"model": "gpt-oss-20b", "input": "hi", "messages": []})
        assert status == 400 and json.loads(body)["error"] == {"message": "Unrecognized request argument supplied: messages", "type": "invalid_request_error", "param": "messages", "code": "unknown_parameter"}

    def test_openai_service_fields_and_nulls_are_accepted(self, client):
        r = client.responses.create(model="gpt-oss-20b", input="hi", include=["reasoning.encrypted_content"], truncation="disabled", service_tier="auto",
                                    prompt_cache_key="k", safety_identifier="u1", user="u1", store=False, max_tool_calls=3,
                                    extra_body={"temperature": None, "text": {"verbosity": "low"}})
        assert r.status == "completed" and r.store is False

    def test_unknown_model_is_404(self, client):
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-5", input="hi")

    def test_get_is_405(self, proxy_url):
        assert httpx.get(f"{proxy_url}/v1/responses").status_code == 405


class TestSameGuardrailsFallbackAndErrors:
    """Guardrails, fallback and the status/Retry-After mapping come from the chat pipeline (tests/proxy/test_guard_*.py,
    test_clients_streams.py); the SDK maps 429 → RateLimitError and ≥500 → InternalServerError and retries them
    (openai-python `_exceptions.py`, `_base_client.py` `_should_retry`)."""

    @pytest.mark.parametrize("stream", [False, True])
    def test_blocked_input_is_a_400_content_filter_without_a_model_call(self, client, stats, stream):
        with pytest.raises(openai.BadRequestError) as err:
            r = client.responses.create(model="gpt-oss-20b", input=[{"role": "user", "content": "[[block-input]] secret-plan"}], stream=stream)
            list(r) if stream else None
        assert err.value.body["code"] == "content_filter" and "secret-plan" not in json.dumps(err.value.body)
        assert not any(k.startswith(("sagemaker", "bedrock")) for k in stats()["calls"])

    def test_blocked_output_is_an_incomplete_content_filter_response(self, client):
        r = client.responses.create(model="gpt-oss-120b", input="[[forbidden]] tell me")
        assert r.status == "incomplete" and r.incomplete_details.reason == "content_filter"
        assert "forbidden" not in r.output_text

    def test_blocked_output_while_streaming_ends_with_response_incomplete(self, client):
        events = list(client.responses.create(model="gpt-oss-20b", input="[[forbidden]] tell me", stream=True))
        assert events[-1].type == "response.incomplete" and events[-1].response.incomplete_details.reason == "content_filter"
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert "forbidden" not in text and text == events[-1].response.output_text

    @pytest.mark.parametrize("stream", [False, True])
    def test_masked_output_and_reasoning(self, client, stream):
        if stream:
            with client.responses.stream(model="gpt-oss-20b", input="[[email]] [[reasoning-email]] contact?") as s:
                r = s.get_final_response()
        else:
            r = client.responses.create(model="gpt-oss-20b", input="[[email]] [[reasoning-email]] contact?")
        dumped = r.model_dump_json()
        assert "jane.doe@example.com" not in dumped and "{EMAIL}" in r.output_text and "{EMAIL}" in r.output[0].content[0].text

    def test_masked_tool_arguments(self, client):
        r = client.responses.create(model="gpt-oss-120b", input="[[tool-email]] weather?", tools=[WEATHER])
        call = next(o for o in r.output if o.type == "function_call")
        assert "jane.doe" not in call.arguments and json.loads(call.arguments)["city"].startswith("Paris")

    @pytest.mark.parametrize("stream", [False, True])
    def test_falls_back_like_chat(self, client, stats, stream):
        raw = client.responses.with_raw_response.create(model="gpt-oss-20b", input="[[nocapacity@sagemaker]] hi", stream=stream)
        if stream:
            events = list(raw.parse())
            r = events[-1].response
        else:
            r = raw.parse()
        assert r.model == "gpt-oss-120b" and r.output_text == "Echo: hi"
        assert raw.headers["x-gptoss-model"] == "gpt-oss-120b" and raw.headers["x-gptoss-route"] == "gpt-oss-20b"

    @pytest.mark.parametrize("stream", [False, True])
    def test_throttle_is_429_with_retry_after(self, client, stream):
        with pytest.raises(openai.RateLimitError) as err:
            r = client.responses.create(model="gpt-oss-120b", input="[[throttle]]", stream=stream)
            list(r) if stream else None
        assert err.value.status_code == 429 and int(err.value.response.headers["retry-after"]) >= 1

    @pytest.mark.parametrize(("prompt", "stream"), [("[[error]]", False), ("[[error]]", True), ("[[midstream-error]]", True)])
    def test_backend_failure_is_502(self, client, prompt, stream):
        """`[[midstream-error]]`: the model fails after its first chunks but before any checked text could leave,
        so the status line still carries the failure (nothing of the Responses stream was sent)."""
        with pytest.raises(openai.InternalServerError) as err:
            r = client.responses.create(model="gpt-oss-120b", input=prompt, stream=stream)
            list(r) if stream else None
        assert err.value.status_code == 502 and err.value.body["code"] == "backend_error"

    @pytest.mark.parametrize("stream", [False, True])
    def test_the_log_record_is_the_chat_one_on_this_path(self, client, logs, stream):
        """The record the handler turns into metrics; a stream's is written once the stream has ended."""
        before = len(logs)
        r = client.responses.create(model="gpt-oss-20b", input="log me", stream=stream)
        r = list(r)[-1].response if stream else r
        records = [rec for rec in logs[before:] if rec["path"] == "/v1/responses"]
        assert len(records) == 1, logs[before:]
        record = records[0]
        assert record["route"] == record["model"] == "gpt-oss-20b" and record["status"] == 200 and record["stream"] is stream
        assert record["prompt_tokens"] == r.usage.input_tokens and record["completion_tokens"] == r.usage.output_tokens
        assert record["guardrail_input"] == "none" and "error" not in record


class TestStreaming:
    """The event sequence of openai-python's `response_stream_event.py`: response.created, response.in_progress, then
    per item output_item.added → (content_part.added → deltas → *.done → content_part.done) → output_item.done,
    and response.completed; every event has a `sequence_number`. Reasoning streams as `response.reasoning_text.delta`
    into a `reasoning` item's `content` (the raw chain of thought gpt-oss produces), which is also what vLLM's own
    Responses server does for gpt-oss (vllm-project/vllm `vllm/entrypoints/openai/responses/serving.py` emits
    `ResponseReasoningTextDeltaEvent` and builds `ResponseReasoningItem` with reasoning_text `Content`)."""

    @pytest.mark.parametrize("model", MODELS)
    def test_event_sequence_of_a_text_answer(self, client, model):
        events = list(client.responses.create(model=model, input="hello there", stream=True))
        types = [e.type for e in events]
        assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
        assert [e.sequence_number for e in events] == list(range(len(events)))
        reasoning = types[2:types.index("response.output_item.done") + 1]
        assert reasoning[:2] == ["response.output_item.added", "response.content_part.added"]
        assert reasoning[-3:] == ["response.reasoning_text.done", "response.content_part.done", "response.output_item.done"]
        assert set(reasoning[2:-3]) == {"response.reasoning_text.delta"}
        message = types[len(reasoning) + 2:-1]
        assert message[:2] == ["response.output_item.added", "response.content_part.added"]
        assert message[-3:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
        assert set(message[2:-3]) == {"response.output_text.delta"}
        final = events[-1].response
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == final.output_text == "Echo: hello there" and final.usage.output_tokens > 0 and final.status == "completed"
        assert events[0].response.status == "in_progress" and events[0].response.id == final.id
        assert [e.output_index for e in events if e.type == "response.output_item.done"] == [0, 1]

    @pytest.mark.parametrize("model", MODELS)
    def test_stream_helper_and_a_tool_call(self, client, model):
        with client.responses.stream(model=model, input="weather in Paris?", tools=[WEATHER]) as stream:
            events = list(stream)
            final = stream.get_final_response()
        types = [e.type for e in events]
        assert "response.function_call_arguments.delta" in types and "response.function_call_arguments.done" in types
        done = next(e for e in events if e.type == "response.function_call_arguments.done")
        call = next(o for o in final.output if o.type == "function_call")
        assert done.arguments == call.arguments and json.loads(call.arguments) == {"city": "Paris"} and done.name == "get_weather"
        added = next(e for e in events if e.type == "response.output_item.added" and e.item.type == "function_call")
        assert added.item.call_id == call.call_id and added.item.status == "in_progress"

    def test_stream_helper_parses_structured_output(self, client):
        class City(BaseModel):
            name: str

        with client.responses.stream(model="gpt-oss-20b", input="a city", text_format=City) as stream:
            final = stream.get_final_response()
        assert isinstance(final.output_parsed, City)

    def test_raw_sse_event_lines_match_their_types(self, proxy_url):
        with httpx.stream("POST", f"{proxy_url}/v1/responses", json={"model": "gpt-oss-20b", "input": "hi", "stream": True}, timeout=30) as r:
            body = r.read()
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["x-gptoss-route"] == "gpt-oss-20b" and r.headers["x-request-id"]
        events = _sse(body)
        assert all(event == data["type"] for event, data in events)
        _strict(events)
        assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
        assert b"[DONE]" not in body

    def test_failure_after_the_first_byte_is_an_error_event_then_response_failed(self, proxy_url):
        """After bytes were sent the status is 200: the failure is OpenAI's `error` event ("Emitted when an error
        occurs", response_error_event.py) then `response.failed` (response_failed_event.py) with `response.error`."""
        status, _, body = post(f"{proxy_url}/v1/responses", {"model": "gpt-oss-20b", "input": "[[midstream-error]] [[long:3000]]", "stream": True})
        events = _sse(body)
        assert status == 200 and [e for e, _ in events[-2:]] == ["error", "response.failed"]
        error, failed = events[-2][1], events[-1][1]
        _strict(events)
        assert error["code"] == "backend_error" and error["message"]
        assert failed["response"]["status"] == "failed" and failed["response"]["error"]["code"] == "server_error"
        assert "response.output_text.delta" in [e for e, _ in events]  # text had left before the failure
        assert [d["sequence_number"] for _, d in events] == list(range(len(events)))

    def test_sdk_sees_the_failure_as_events_and_the_log_records_it(self, client, logs):
        before = len(logs)
        events = list(client.responses.create(model="gpt-oss-20b", input="[[midstream-error]] [[long:3000]]", stream=True))
        assert events[-2].type == "error" and events[-1].type == "response.failed" and events[-1].response.error.code == "server_error"
        assert [(r["path"], r["error"]) for r in logs[before:]] == [("/v1/responses", "backend_error")]


class TestContract:
    """Every object and event validates strictly (pydantic, no lenient construct) against openai-python 2.54's
    `Response` and `ResponseStreamEvent` models — the SDK itself builds them leniently, so a missing required
    field would otherwise go unnoticed. The backend here is scripted (the translation is under test): a
    reasoning → text → two tool calls whose argument deltas interleave, as an unguarded vLLM stream may send them."""

    ROUTES = {"m": {"backend": "sagemaker", "endpoint_name": "e"}}

    class Scripted:
        def complete(self, route, body, timeout):
            message = {"content": "hi", "reasoning_content": "think", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
            return {"choices": [{"message": message, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}

        def stream(self, route, body, timeout):
            yield {"choices": [{"delta": {"reasoning_content": "think"}}]}
            yield {"choices": [{"delta": {"content": "hi"}}]}
            yield {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a":'}}]}}]}
            yield {"choices": [{"delta": {"tool_calls": [{"index": 1, "id": "c2", "function": {"name": "g", "arguments": "{}"}}]}}]}
            yield {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]}
            yield {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}
            yield {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}

    def _service(self):
        from gptoss_proxy.core.service import ProxyService
        from gptoss_proxy.core.settings import Settings

        return ProxyService(Settings.from_env({"GPTOSS_ROUTES": json.dumps(self.ROUTES)}), {"sagemaker": self.Scripted()})

    BODY = {"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}}}

    def test_response_object_validates(self):
        from openai.types.responses import Response
        from pydantic import TypeAdapter

        r = self._service().handle("POST", "/v1/responses", {}, json.dumps(self.BODY).encode())
        parsed = TypeAdapter(Response).validate_python(json.loads(r.body))
        assert [o.type for o in parsed.output] == ["reasoning", "message", "function_call"] and parsed.usage.total_tokens == 7

    def test_stream_events_validate_and_interleaved_calls_stay_separate(self):
        from openai.types.responses import Response, ResponseStreamEvent
        from pydantic import TypeAdapter

        r = self._service().handle("POST", "/v1/responses", {}, json.dumps({**self.BODY, "stream": True}).encode())
        events = [TypeAdapter(ResponseStreamEvent).validate_python(json.loads(bytes(p).decode().split("data: ", 1)[1])) for p in r.body]
        assert all(isinstance(e.response, Response) for e in events if e.type.startswith("response.") and hasattr(e, "response"))
        deltas = [(e.output_index, e.delta) for e in events if e.type == "response.function_call_arguments.delta"]
        assert deltas == [(2, '{"a":'), (3, "{}"), (2, "1}")]
        final = events[-1].response
        assert [(o.type, getattr(o, "arguments", None)) for o in final.output] == [("reasoning", None), ("message", None), ("function_call", '{"a":1}'), ("function_call", "{}")]
        assert [e.output_index for e in events if e.type == "response.output_item.added"] == [0, 1, 2, 3]


class TestLangChain:
    """langchain-openai 1.7.4 `ChatOpenAI(use_responses_api=True)` (langchain_openai/chat_models/base.py:
    `_construct_responses_api_payload`, `_construct_lc_result_from_responses_api`) drives the same route: text,
    streaming, and a tool loop that sends the reasoning and function_call items back."""

    @staticmethod
    def _text(content) -> str:
        return content if isinstance(content, str) else "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")

    def test_invoke_stream_and_tool_loop(self, proxy_url, stats, logs):
        from langchain_core.messages import HumanMessage, ToolMessage
        from langchain_core.tools import tool
        from langchain_openai import ChatOpenAI

        @tool
        def get_weather(city: str) -> str:
            """The weather in a city."""
            return "sunny"

        before = len(logs)
        llm = ChatOpenAI(model="gpt-oss-20b", base_url=f"{proxy_url}/v1", api_key="unused", use_responses_api=True, max_retries=0, reasoning={"effort": "low"})
        answer = llm.invoke("hello there")
        assert self._text(answer.content) == "Echo: hello there" and answer.usage_metadata["output_token_details"]["reasoning"] > 0
        assert "".join(self._text(c.content) for c in llm.stream("hello there")) == "Echo: hello there"
        tools = llm.bind_tools([get_weather])
        first = tools.invoke([HumanMessage("weather in Paris?")])
        assert [c["name"] for c in first.tool_calls] == ["get_weather"] and first.tool_calls[0]["args"] == {"city": "Paris"}
        second = tools.invoke([HumanMessage("weather in Paris?"), first, ToolMessage("sunny", tool_call_id=first.tool_calls[0]["id"])])
        assert self._text(second.content) == "The tool said: sunny"
        assert _last_request(stats)["reasoning_effort"] == "low"
        assert [r["path"] for r in logs[before:]] == ["/v1/responses"] * 4


class TestDeadline:
    """The chat pipeline's deadline watchdog (see tests/proxy/test_clients_streams.py `TestStalledModel`) ends a
    stalled Responses stream too: the `error` event carries `request_deadline`, then `response.failed` — before
    Lambda's own deadline, with the text that had been released kept in the failed response's output."""

    def test_a_stalled_model_ends_the_stream_with_error_and_response_failed(self):
        import threading

        from gptoss_proxy.core.service import ProxyService
        from gptoss_proxy.core.settings import Settings

        released = threading.Event()

        class Chunks:
            def __iter__(self):
                yield {"choices": [{"index": 0, "delta": {"content": "first words "}, "finish_reason": None}]}
                released.wait(30)  # the model hangs until aborted
                raise ConnectionError("connection shut down")

            def abort(self):
                released.set()

        now = [0.0]  # a fake clock: it stands still while the model hangs, so only the watchdog can end the stream

        class Stalling:
            def stream(self, route, body, timeout):
                now[0] += 1.3  # the model took 1.3 s to start answering: the cut (at 1.5 s) is 0.2 s away
                return Chunks()

        settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps({"m": {"backend": "sagemaker", "endpoint_name": "e"}}), "GPTOSS_DEADLINE_MARGIN_SECONDS": "10"})
        service = ProxyService(settings, {"sagemaker": Stalling()}, guardrail=None, clock=lambda: now[0])
        body = json.dumps({"model": "m", "stream": True, "input": "hi"}).encode()
        response = service.handle("POST", "/v1/responses", {}, body, deadline=11.5)  # cut at 1.5 s
        events = _sse(b"".join(response.body))
        assert response.status == 200 and released.is_set()
        assert [e for e, _ in events[-2:]] == ["error", "response.failed"] and events[-2][1]["code"] == "request_deadline"
        failed = events[-1][1]["response"]
        assert failed["status"] == "failed" and failed["output"][0]["content"][0]["text"] == "first words "
        _strict(events)


class TestBudgetsAndHandoff:
    """The chat pipeline's reasoning budgets (core/budget.py: `reasoning.max_tokens`, the same object as OpenAI's
    `reasoning.effort`) and model-initiated handoff (core/handoff.py; the dev routes hand gpt-oss-20b off to
    gpt-oss-120b) work on /v1/responses too. Emulator markers: `[[think:N]]`, `[[beyond]]` (emulators/server.py)."""

    @pytest.mark.parametrize("stream", [False, True])
    def test_reasoning_budget_caps_the_reasoning_item(self, client, stats, stream):
        kwargs = {"model": "gpt-oss-120b", "input": "[[think:500]] what is 2+2?", "extra_body": {"reasoning": {"max_tokens": 100}}}
        if stream:
            events = list(client.responses.create(stream=True, **kwargs))
            r = events[-1].response
            assert "".join(e.delta for e in events if e.type == "response.reasoning_text.delta") == r.output[0].content[0].text
        else:
            r = client.responses.create(**kwargs)
        reasoning = r.output[0].content[0].text
        assert reasoning.startswith("Step: check it.") and len(reasoning) == 100 * 4 + len("Answering now.")
        assert r.output_text == "Echo: what is 2+2?" and r.status == "completed"
        first, second = stats()["bodies"]
        assert second["messages"][-1]["role"] == "developer" and second["reasoning_effort"] == "low"

    @pytest.mark.parametrize("stream", [False, True])
    def test_the_small_model_hands_off_and_the_response_names_the_large_one(self, client, stats, stream):
        raw = client.responses.with_raw_response.create(model="gpt-oss-20b", input="[[beyond]] prove the Riemann hypothesis", stream=stream)
        if stream:
            events = list(raw.parse())
            r = events[-1].response
            assert events[0].response.model == "gpt-oss-20b" and r.model == "gpt-oss-120b"
        else:
            r = raw.parse()
            assert raw.headers["x-gptoss-handoff"] == "gpt-oss-20b -> gpt-oss-120b"
        assert r.model == "gpt-oss-120b" and r.output_text == "Echo: prove the Riemann hypothesis"
        assert all(o.type != "function_call" for o in r.output)  # the handoff tool never reaches the client
        assert len(stats()["bodies"]) == 2


def test_the_readme_example_works_as_printed(proxy_url, capsys):
    """README "The Responses API": its Python example, run against this session's proxy instead of `make dev`'s port."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### The Responses API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "http://127.0.0.1:8080/v1" in code
    exec(compile(code.replace("http://127.0.0.1:8080/v1", f"{proxy_url}/v1"), "README.md", "exec"), {})
    assert capsys.readouterr().out == "Echo: Hello\n"
