"""Issue 23 items 1–4: what agentic coding tools send — Codex's request shape, item references, the encrypted
reasoning round trip across tool steps, and reasoning summaries — with the real openai SDK and raw replays.

Codex's shapes (tests/proxy/fixtures/codex_*.json) are facts read from openai/codex codex-rs/codex-api/src/common.rs
(``ResponsesApiRequest``: model, instructions, input, tools, tool_choice "auto", parallel_tool_calls, reasoning
{effort, summary}, store, stream, include, prompt_cache_key, text {verbosity}; ``ResponseCreateWsRequest.client_metadata``
a string map) and requests/responses.rs (``tool_choice: "auto"`` on every request, tools may be empty).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import openai
import pytest

from tests.proxy.conftest import post
from tests.proxy.test_responses import WEATHER, _last_request, _sse, _strict

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = ["gpt-oss-20b", "gpt-oss-120b"]


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _reasoning_sent(stats) -> list:
    """The reasoning on the assistant messages the backend received (SageMaker: `reasoning`; Bedrock: none)."""
    return [m.get("reasoning") for m in _last_request(stats)["messages"] if m["role"] == "assistant"]


class TestCodex:
    def test_the_codex_turn_streams_with_encrypted_reasoning_and_a_summary(self, proxy_url, stats):
        status, headers, body = post(f"{proxy_url}/v1/responses", _fixture("codex_turn.json"))
        assert status == 200, body
        events = _sse(body)
        _strict(events)
        done = events[-1][1]["response"]
        reasoning = next(o for o in done["output"] if o["type"] == "reasoning")
        assert reasoning["encrypted_content"] and reasoning["summary"][0]["type"] == "summary_text"
        assert "client_metadata" not in _last_request(stats)  # accepted, never sent to the model

    def test_the_codex_compaction_turn_with_no_tools_is_answered(self, proxy_url, stats):
        status, _, body = post(f"{proxy_url}/v1/responses", _fixture("codex_compaction.json"))
        assert status == 200, body
        sent = _last_request(stats)
        assert "tool_choice" not in sent and not [t for t in sent.get("tools", []) if t["function"]["name"] != "handoff_to_larger_model"]

    @pytest.mark.parametrize("choice", ["auto", "none"])
    def test_empty_tools_with_tool_choice_on_both_apis(self, client, choice):
        r = client.responses.create(model="gpt-oss-120b", input="hi", tools=[], tool_choice=choice)
        assert r.status == "completed"
        c = client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], tools=[], tool_choice=choice)
        assert c.choices[0].message.content == "Echo: hi"

    def test_client_metadata_on_both_apis(self, client):
        meta = {"x-codex-installation-id": "abc"}
        assert client.responses.create(model="gpt-oss-120b", input="hi", extra_body={"client_metadata": meta}).status == "completed"
        c = client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], extra_body={"client_metadata": meta})
        assert c.choices[0].message.content == "Echo: hi"

    def test_fails_when_client_metadata_is_not_an_object_of_strings(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.responses.create(model="gpt-oss-120b", input="hi", extra_body={"client_metadata": {"n": 1}})
        assert err.value.body["param"] == "client_metadata"

    def test_fails_when_required_tool_choice_has_no_tools(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], tools=[], tool_choice="required")
        assert err.value.body["param"] == "tool_choice"


class TestItemReference:
    def test_a_reference_to_an_item_this_proxy_issued_is_skipped(self, client, stats):
        first = client.responses.create(model="gpt-oss-20b", input="What is the weather in Paris?", tools=[WEATHER])
        rs = next(o for o in first.output if o.type == "reasoning")
        call = next(o for o in first.output if o.type == "function_call")
        # the AI SDK's follow-up with `store` omitted: the reasoning as a reference, the call and its output in full
        history = [{"role": "user", "content": "What is the weather in Paris?"}, {"type": "item_reference", "id": rs.id},
                   {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
                   {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
        second = client.responses.create(model="gpt-oss-20b", input=history, tools=[WEATHER])
        assert second.output_text == "The tool said: sunny"

    def test_fails_like_openai_on_an_unknown_reference(self, client):
        """OpenAI answers 404 "Item with id '…' not found. Items are not persisted when `store` is set to false. …"
        (quoted in github.com/vercel/ai/issues/7543 and github.com/can1357/oh-my-pi/issues/41)."""
        with pytest.raises(openai.NotFoundError) as err:
            client.responses.create(model="gpt-oss-20b", input=[{"role": "user", "content": "hi"}, {"type": "item_reference", "id": "rs_68af00aa"}])
        assert err.value.body["message"].startswith("Item with id 'rs_68af00aa' not found. Items are not persisted when `store` is set to false.")


@pytest.mark.parametrize("model", MODELS)
class TestReasoningRoundTrip:
    def _first(self, client, model, **kwargs):
        return client.responses.create(model=model, input="What is the weather in Paris?", tools=[WEATHER], include=["reasoning.encrypted_content"], **kwargs)

    def test_encrypted_reasoning_returns_to_the_model_on_the_next_tool_step(self, client, stats, model):
        first = self._first(client, model)
        rs = next(o for o in first.output if o.type == "reasoning")
        call = next(o for o in first.output if o.type == "function_call")
        thought = rs.content[0].text
        assert rs.encrypted_content and thought not in base64.b64decode(rs.encrypted_content).decode()
        # what the AI SDK / Codex send back with store false: the item with its ciphertext and no text
        history = [{"role": "user", "content": "What is the weather in Paris?"},
                   {"type": "reasoning", "id": rs.id, "summary": [], "encrypted_content": rs.encrypted_content},
                   call.model_dump(exclude_none=True), {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
        second = client.responses.create(model=model, input=history, tools=[WEATHER], include=["reasoning.encrypted_content"])
        assert second.output_text == "The tool said: sunny"
        assert _reasoning_sent(stats) == ([thought] if model == "gpt-oss-20b" else [None])  # Bedrock: UNCONFIRMED, left out

    def test_reasoning_is_dropped_after_a_final_answer(self, client, stats, model):
        first = client.responses.create(model=model, input="hello", include=["reasoning.encrypted_content"])
        history = [{"role": "user", "content": "hello"}, *[o.model_dump(exclude_none=True) for o in first.output], {"role": "user", "content": "again"}]
        client.responses.create(model=model, input=history)
        assert _reasoning_sent(stats) == [None]

    def test_decrypted_reasoning_is_checked_by_the_input_guardrail(self, client, stats, model):
        first = self._first(client, model)
        rs = next(o for o in first.output if o.type == "reasoning")
        call = next(o for o in first.output if o.type == "function_call")
        history = [{"role": "user", "content": "What is the weather in Paris?"}, {"type": "reasoning", "id": rs.id, "summary": [], "encrypted_content": rs.encrypted_content},
                   call.model_dump(exclude_none=True), {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
        before = len(stats()["guardrail"])
        client.responses.create(model=model, input=history, tools=[WEATHER])
        checked = sum(c["chars"] for c in stats()["guardrail"][before:] if c["source"] == "INPUT")
        assert checked >= len(rs.content[0].text) + len("What is the weather in Paris?")

    def test_fails_when_the_ciphertext_was_tampered_with(self, client, model):
        rs = next(o for o in self._first(client, model).output if o.type == "reasoning")
        frame = json.loads(base64.b64decode(rs.encrypted_content))
        blob = bytearray(base64.b64decode(frame["parts"][0]))
        blob[-1] ^= 1
        frame["parts"][0] = base64.b64encode(bytes(blob)).decode()
        forged = base64.b64encode(json.dumps(frame).encode()).decode()
        for token in (forged, "not-base64!", base64.b64encode(b'{"v": 1, "id": "rs_x", "parts": ["AAAA"]}').decode()):
            with pytest.raises(openai.BadRequestError) as err:
                client.responses.create(model=model, input=[{"type": "reasoning", "id": rs.id, "summary": [], "encrypted_content": token}, {"role": "user", "content": "hi"}])
            assert err.value.body["code"] == "invalid_encrypted_content" and "could not be verified" in err.value.body["message"]

    def test_fails_when_the_ciphertext_comes_back_to_another_route(self, client, model):
        rs = next(o for o in self._first(client, model).output if o.type == "reasoning")
        other = next(m for m in MODELS if m != model)
        with pytest.raises(openai.BadRequestError) as err:
            client.responses.create(model=other, input=[{"type": "reasoning", "id": rs.id, "summary": [], "encrypted_content": rs.encrypted_content}, {"role": "user", "content": "hi"}])
        assert err.value.body["code"] == "invalid_encrypted_content"

    def test_streamed_reasoning_items_carry_encrypted_content(self, client, model):
        with client.responses.stream(model=model, input="hello", include=["reasoning.encrypted_content"]) as stream:
            final = stream.get_final_response()
        rs = next(o for o in final.output if o.type == "reasoning")
        assert rs.encrypted_content and rs.content[0].text


class TestChatCompletionsReasoning:
    def test_reasoning_content_on_tool_call_steps_reaches_the_model(self, client, stats):
        messages = [
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "an earlier answer", "reasoning_content": "old thought"},
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "reasoning_content": "I should call the tool.",
             "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ]
        client.chat.completions.create(model="gpt-oss-20b", messages=messages)
        assert _reasoning_sent(stats) == [None, "I should call the tool."]


class TestSummaries:
    @pytest.mark.parametrize("mode", ["auto", "detailed", "concise"])
    def test_summary_is_the_guarded_reasoning(self, client, mode):
        r = client.responses.create(model="gpt-oss-20b", input="[[think:300]] hello", reasoning={"effort": "low", "summary": mode})
        rs = next(o for o in r.output if o.type == "reasoning")
        text = rs.content[0].text
        assert r.reasoning.summary == mode and rs.summary[0].type == "summary_text"
        assert rs.summary[0].text == (text if mode != "concise" else text[:600] + " …")

    def test_summary_stream_events(self, client):
        with client.responses.stream(model="gpt-oss-20b", input="[[think:300]] hello", reasoning={"summary": "concise"}) as stream:
            kinds, deltas = [], ""
            for event in stream:
                kinds.append(event.type)
                if event.type == "response.reasoning_summary_text.delta":
                    deltas += event.delta
            final = stream.get_final_response()
        rs = next(o for o in final.output if o.type == "reasoning")
        assert deltas == rs.summary[0].text and len(deltas) == 600 + 2
        order = [k for k in kinds if "summary" in k]
        assert order[0] == "response.reasoning_summary_part.added" and order[-2:] == ["response.reasoning_summary_text.done", "response.reasoning_summary_part.done"]

    def test_summary_events_validate_against_the_sdk_types(self, proxy_url):
        status, _, body = post(f"{proxy_url}/v1/responses", {"model": "gpt-oss-120b", "input": "hi", "stream": True, "reasoning": {"summary": "auto"}})
        assert status == 200
        _strict(_sse(body))

    def test_fails_when_the_summary_mode_is_unknown(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.responses.create(model="gpt-oss-20b", input="hi", reasoning={"summary": "brief"})
        assert err.value.body["param"] == "reasoning.summary"


@pytest.mark.parametrize("model", MODELS)
class TestLength:
    """Issue 23 item 9: the emulated models stop at max_tokens / max_completion_tokens with finish_reason "length"
    (vLLM and Bedrock both do), so clients' handling of a cut answer is exercised."""

    def test_chat_and_stream_end_with_length(self, client, model):
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello there"}], max_tokens=5)
        assert r.choices[0].finish_reason == "length"
        assert len(r.choices[0].message.model_extra.get("reasoning_content") or "") + len(r.choices[0].message.content or "") <= 20
        chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}], max_completion_tokens=5, stream=True))
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]

    def test_responses_and_langchain_see_the_cut(self, client, proxy_url, model):
        r = client.responses.create(model=model, input="hello there", max_output_tokens=5)
        assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(model=model, base_url=f"{proxy_url}/v1", api_key="x", max_tokens=5, max_retries=0)
        assert llm.invoke("hello there").response_metadata["finish_reason"] == "length"
