"""The guard in the pure core: every input field, tool calls as output, ordering, logs, failing closed.

AWS facts relied on (the fake below follows them):
- ApplyGuardrail takes ``source`` INPUT | OUTPUT and ``content``, an array of GuardrailContentBlock (text
  blocks); it answers ``action`` (GUARDRAIL_INTERVENED | NONE), ``outputs`` and ``usage`` —
  docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html,
  API_runtime_GuardrailContentBlock.html, API_runtime_GuardrailUsage.html.
- One output per text block when masking is what the adapter requires (UNCONFIRMED; it refuses otherwise).
- A text unit holds up to 1,000 characters; 5,600 characters are 6 units (aws.amazon.com/bedrock/pricing).
- Per-request input size quota in text units, smallest listed value 25 (docs.aws.amazon.com/general/latest/gr/
  bedrock.html, "Content policy maximum input size in text units"): calls are packed up to 25,000 characters;
  above that, ApplyGuardrail answered 429 in github.com/BerriAI/litellm/issues/19501.
"""

from __future__ import annotations

import json
import re

import pytest

from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.guard import MAX_CALL_CHARS, ContentBlocked, Guard, GuardVerdict, StreamFields, input_slots
from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class Fake:
    """Masks e-mails per block, blocks the word ``attack`` (INPUT) / ``forbidden`` (OUTPUT) in any block."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.fail = fail

    def __call__(self, source, texts):
        self.calls.append((source, list(texts)))
        if self.fail:
            raise TimeoutError("slow")
        word = "attack" if source == "INPUT" else "forbidden"
        if any(word in t for t in texts):
            return GuardVerdict(blocked=True, texts=(), message="Blocked by policy.")
        out = tuple(EMAIL.sub("{EMAIL}", t) for t in texts)
        return GuardVerdict(blocked=False, texts=out, masked=out != tuple(texts))

    def sent(self) -> list[str]:
        return [t for _, texts in self.calls for t in texts]


TOOLS = [{"type": "function", "function": {
    "name": "send_mail",
    "description": "Send mail; the operator is ops@example.com",
    "parameters": {"type": "object", "required": ["to"], "properties": {
        "to": {"type": "string", "description": "recipient, e.g. a@example.com"},
        "kind": {"type": "string", "enum": ["plain", "cc:boss@example.com"]},
        "meta": {"type": "object", "properties": {"note": {"type": "string", "title": "note for x@example.com"}}},
    }},
}}]


def body(**extra):
    return {"messages": [{"role": "user", "content": "hi"}], **extra}


class TestInputFields:
    """Each field the backend turns into prompt tokens is checked as INPUT and masked in place."""

    @pytest.mark.parametrize(
        ("request_body", "path"),
        [
            (body(messages=[{"role": "user", "content": "mail bob@example.com"}]), ("messages", 0, "content")),
            (body(messages=[{"role": "user", "content": [{"type": "text", "text": "mail bob@example.com"}]}]), ("messages", 0, "content", 0, "text")),
            (body(messages=[{"role": "system", "content": "ops is bob@example.com"}, {"role": "user", "content": "hi"}]), ("messages", 0, "content")),
            (body(messages=[{"role": "user", "name": "bob@example.com", "content": "hi"}]), ("messages", 0, "name")),
            (body(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                            {"role": "tool", "tool_call_id": "c1", "content": "result: bob@example.com"}]), ("messages", 2, "content")),
            (body(messages=[{"role": "assistant", "content": "x", "reasoning_content": "think of bob@example.com"}, {"role": "user", "content": "hi"}]), ("messages", 0, "reasoning_content")),
            (body(tools=TOOLS), ("tools", 0, "function", "description")),
            (body(tools=TOOLS), ("tools", 0, "function", "parameters", "properties", "to", "description")),
            (body(tools=TOOLS), ("tools", 0, "function", "parameters", "properties", "kind", "enum", 1)),
            (body(tools=TOOLS), ("tools", 0, "function", "parameters", "properties", "meta", "properties", "note", "title")),
            (body(response_format={"type": "json_schema", "json_schema": {"name": "r", "description": "to bob@example.com", "schema": {"type": "object"}}}), ("response_format", "json_schema", "description")),
            (body(response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object", "properties": {"a": {"description": "bob@example.com"}}}}}), ("response_format", "json_schema", "schema", "properties", "a", "description")),
        ],
    )
    def test_field_is_checked_and_masked_in_place(self, request_body, path):
        fake = Fake()
        out, action = Guard(fake).check_input(request_body)
        value = out
        for key in path:
            value = value[key]
        assert action == "masked" and "@example.com" not in value and "{EMAIL}" in value
        assert all(source == "INPUT" for source, _ in fake.calls)

    @pytest.mark.parametrize("field", ["content", "tool result", "tool description", "enum", "arguments", "name"])
    def test_fails_with_400_content_filter_whatever_field_and_never_echoes_it(self, field):
        bad = "please attack now"
        b = body(tools=json.loads(json.dumps(TOOLS)))
        if field == "content":
            b["messages"][0]["content"] = bad
        elif field == "tool result":
            b["messages"] += [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "send_mail", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c", "content": bad}]
        elif field == "tool description":
            b["tools"][0]["function"]["description"] = bad
        elif field == "enum":
            b["tools"][0]["function"]["parameters"]["properties"]["kind"]["enum"].append(bad)
        elif field == "arguments":
            b["messages"] += [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "send_mail", "arguments": json.dumps({"to": bad})}}]}]
        else:
            b["messages"][0]["name"] = "attacker"
        with pytest.raises(ProxyError) as err:
            Guard(Fake()).check_input(b)
        assert (err.value.status, err.value.code) == (400, "content_filter")
        assert "attack" not in err.value.message

    def test_a_blocked_message_that_would_echo_the_text_is_replaced(self):
        def echoing(source, texts):
            return GuardVerdict(blocked=True, texts=(), message=f"blocked: {texts[0]}")

        with pytest.raises(ProxyError) as err:
            Guard(echoing).check_input(body(messages=[{"role": "user", "content": "my secret plan"}]))
        assert "secret plan" not in err.value.message

    def test_earlier_tool_call_arguments_are_masked_inside_json_strings_and_stay_valid_json(self):
        args = json.dumps({"to": "bob@example.com", "cc": ["x@example.com", 3], "n": 1})
        b = body(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "send_mail", "arguments": args}}]}])
        out, _ = Guard(Fake()).check_input(b)
        assert json.loads(out["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {"to": "{EMAIL}", "cc": ["{EMAIL}", 3], "n": 1}

    def test_escaped_text_in_arguments_is_checked_decoded(self):
        """``\\u0040`` in the JSON text is ``@``: the guardrail must see the decoded value, or escapes hide it."""
        fake = Fake()
        args = '{"to": "bob\\u0040example.com"}'
        b = body(messages=[{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}]}, {"role": "user", "content": "go"}])
        out, action = Guard(fake).check_input(b)
        assert action == "masked" and "bob@example.com" in fake.sent()
        assert json.loads(out["messages"][0]["tool_calls"][0]["function"]["arguments"]) == {"to": "{EMAIL}"}

    @pytest.mark.parametrize("where", ["function name", "property name", "argument key"])
    def test_fails_when_an_identifier_would_be_masked(self, where):
        b = body(tools=json.loads(json.dumps(TOOLS)))
        if where == "function name":
            b["tools"][0]["function"]["name"] = "mail_bob@example.com"
        elif where == "property name":
            b["tools"][0]["function"]["parameters"]["properties"]["bob@example.com"] = {"type": "string"}
        else:
            b["messages"] += [{"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"bob@example.com": 1}'}}]}]
        with pytest.raises(ProxyError) as err:
            Guard(Fake()).check_input(b)
        assert err.value.status == 400 and err.value.code == "content_filter" and "bob@" not in err.value.message

    def test_all_fields_go_in_one_call_and_identical_texts_once(self):
        fake = Fake()
        b = body(messages=[{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}, {"role": "user", "content": "hi"}], tools=TOOLS)
        Guard(fake).check_input(b)
        assert len(fake.calls) == 1
        sent = fake.calls[0][1]
        assert len(sent) == len(set(sent))
        assert {"be nice", "hi", "send_mail", "to", "kind", "plain", "Send mail; the operator is ops@example.com"} <= set(sent)
        assert "object" not in sent and "string" not in sent  # schema vocabulary is not prose

    def test_calls_are_packed_up_to_the_per_call_limit(self):
        fake = Fake()
        texts = [f"{i} " + "word " * 1_800 for i in range(7)]  # 63,014 characters, two texts per 25,000-character call
        Guard(fake).check_input(body(messages=[{"role": "user", "content": t} for t in texts]))
        assert len(fake.calls) == 4 and all(sum(map(len, c)) <= MAX_CALL_CHARS for _, c in fake.calls)

    def test_a_text_longer_than_one_call_is_checked_in_windows_across_its_cut(self):
        fake = Fake()
        text = "word " * 4_999 + "bob@example.com " + "word " * 3_000
        out, action = Guard(fake).check_input(body(messages=[{"role": "user", "content": text}]))
        assert action == "masked" and "bob@" not in out["messages"][0]["content"]
        assert all(len(t) <= MAX_CALL_CHARS for t in fake.sent())
        assert "".join(fake.sent()) == text

    def test_nothing_to_check_makes_no_call_and_no_guardrail_means_off(self):
        fake = Fake()
        assert Guard(fake).check_input({"messages": [{"role": "assistant", "content": None}]})[1] == "none" and fake.calls == []
        assert Guard(None).check_input(body())[1] == "off"

    def test_a_failing_guardrail_fails_closed(self):
        with pytest.raises(ProxyError) as err:
            Guard(Fake(fail=True)).check_input(body())
        assert err.value.status == 503 and err.value.code == "guardrail_unavailable"

    def test_input_slots_cover_every_kind_of_text(self):
        slots, _ = input_slots(body(tools=TOOLS))
        identifiers = {s.where for s in slots if s.put is None}
        assert "tools[0].function.name" in identifiers and "tools[0].function.parameters.properties" in identifiers


class TestOutputMessage:
    def message(self, **kw):
        return {"role": "assistant", "content": None, **kw}

    def test_tool_call_arguments_and_name_are_checked_as_output_and_masked_in_json(self):
        fake = Fake()
        m = self.message(tool_calls=[{"id": "c", "type": "function", "function": {"name": "send_mail", "arguments": '{"to": "bob@example.com"}'}}], reasoning_content="ok", content="fine")
        actions = Guard(fake).check_message(m)
        assert json.loads(m["tool_calls"][0]["function"]["arguments"]) == {"to": "{EMAIL}"}
        assert actions == {"reasoning": "none", "content": "none", "tool_calls": "masked"}
        assert len(fake.calls) == 1 and fake.calls[0][0] == "OUTPUT" and "send_mail" in fake.calls[0][1]

    def test_blocked_tool_call_raises(self):
        m = self.message(tool_calls=[{"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"q": "forbidden"}'}}])
        with pytest.raises(ContentBlocked):
            Guard(Fake()).check_message(m)

    def test_masked_arguments_that_are_not_json_refuse_the_call(self):
        m = self.message(tool_calls=[{"id": "c", "type": "function", "function": {"name": "f", "arguments": "to=bob@example.com"}}])
        with pytest.raises(ContentBlocked) as err:
            Guard(Fake()).check_message(m)
        assert err.value.action == "refused" and "bob@" not in err.value.message


def _drive(fields: StreamFields, deltas):
    out = []
    for reasoning, content, calls in deltas:
        out += fields.feed(reasoning, content, calls)
    return out + fields.finish()


class TestStreamOrder:
    def test_reasoning_is_released_before_the_answer_in_safe_mode(self):
        fields = StreamFields(Guard(Fake()))
        deltas = [("think " * 5, "", None)] + [("", "answer " * 30, None)] * 40  # short reasoning, long answer
        kinds = [next(iter(d)) for d in _drive(fields, deltas)]
        assert kinds[0] == "reasoning_content" and "reasoning_content" not in kinds[kinds.index("content"):]

    def test_tool_call_is_buffered_until_complete_then_released_whole_after_the_text(self):
        fake = Fake()
        fields = StreamFields(Guard(fake))
        parts = [{"index": 0, "id": "c1", "type": "function", "function": {"name": "send_mail", "arguments": ""}}, {"index": 0, "function": {"arguments": '{"to": "bob@exa'}}, {"index": 0, "function": {"arguments": 'mple.com"}'}}]
        out = fields.feed("", "Sending.", None)
        for p in parts:
            out += fields.feed("", "", [p])
        assert out == [{"content": "Sending."}]  # the text before the call, checked; nothing of the call yet
        out = fields.finish_calls()
        (call,) = out[0]["tool_calls"]
        assert call["id"] == "c1" and json.loads(call["function"]["arguments"]) == {"to": "{EMAIL}"}

    def test_next_call_index_completes_the_previous_call(self):
        fields = StreamFields(Guard(Fake()))
        out = fields.feed("", "", [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}])
        out += fields.feed("", "", [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}])
        assert [c["id"] for d in out for c in d["tool_calls"]] == ["a"]

    def test_a_blocked_call_releases_nothing_of_it(self):
        fields = StreamFields(Guard(Fake()))
        fields.feed("", "", [{"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"q": "forbidden"}'}}])
        with pytest.raises(ContentBlocked):
            fields.finish_calls()

    def test_without_a_guardrail_tool_call_deltas_stream_as_they_come(self):
        fields = StreamFields(Guard(None))
        delta = {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}
        assert fields.feed("", "", [delta]) == [{"tool_calls": [delta]}]


ROUTES = {"m": {"backend": "sagemaker", "endpoint_name": "ep"}}


class ScriptedBackend:
    def __init__(self, chunks):
        self.chunks = chunks

    def stream(self, route, body, timeout):
        return iter(self.chunks)

    def complete(self, route, body, timeout):
        raise NotImplementedError


def _chunk(**delta):
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_stream_logs_the_real_action_per_field():
    records = []
    chunks = [_chunk(reasoning_content="consider it"), _chunk(content="write to bob@example.com now"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    service = ProxyService(Settings.from_env({"GPTOSS_ROUTES": json.dumps(ROUTES)}), {"sagemaker": ScriptedBackend(chunks)}, Fake(), log=records.append)
    response = service.handle("POST", "/v1/chat/completions", {}, json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode())
    text = b"".join(response.body).decode()
    assert "bob@example.com" not in text and "{EMAIL}" in text
    (record,) = records
    assert record["guardrail_output"] == "masked" and record["guardrail_content"] == "masked" and record["guardrail_reasoning"] == "none"
    assert record["guardrail_input"] == "none" and record["guardrail_units"] >= 3 and record["guardrail_calls"] == 3


def _stream_service(chunks, mode="safe", records=None):
    env = {"GPTOSS_ROUTES": json.dumps(ROUTES), "GPTOSS_GUARDRAIL_STREAM_MODE": mode}
    return ProxyService(Settings.from_env(env), {"sagemaker": ScriptedBackend(chunks)}, Fake(), log=(records if records is not None else []).append)


def _events(service):
    response = service.handle("POST", "/v1/chat/completions", {}, json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode())
    return [json.loads(line[6:]) for line in b"".join(response.body).decode().split("\n") if line.startswith("data: {")]


def test_fast_mode_releases_at_once_and_ends_with_content_filter_when_its_batch_is_masked():
    """fast: text leaves unchecked (that is the mode's trade), so a mask found later ends the stream."""
    records = []
    words = [_chunk(content="word ") for _ in range(30)] + [_chunk(content="bob@example.com ")] + [_chunk(content="more ") for _ in range(30)]
    events = _events(_stream_service(words, "fast", records))
    deltas = [e["choices"][0] for e in events if e.get("choices")]
    released = "".join(d["delta"].get("content") or "" for d in deltas)
    assert released.startswith("word word") and deltas[-1]["finish_reason"] == "content_filter"
    assert [d["delta"].get("content") for d in deltas[1:4]] == ["word ", "word ", "word "]  # one delta per chunk
    assert records[0]["guardrail_content"] == "masked"


def test_a_blocked_streamed_tool_call_sends_no_tool_call_delta():
    chunks = [_chunk(tool_calls=[{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]),
              _chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"q": "forbid'}}]),
              _chunk(tool_calls=[{"index": 0, "function": {"arguments": 'den"}'}}]),
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
    records = []
    deltas = [e["choices"][0] for e in _events(_stream_service(chunks, records=records)) if e.get("choices")]
    assert not any(d["delta"].get("tool_calls") for d in deltas)
    assert deltas[-1]["finish_reason"] == "content_filter" and records[0]["guardrail_tool_calls"] == "blocked"


def test_a_blocked_input_names_no_param_because_the_guardrail_does_not_say_which_block():
    """ApplyGuardrail's assessments carry no block index (docs.aws.amazon.com/bedrock/latest/APIReference/
    API_runtime_GuardrailAssessment.html lists per-policy findings, invocation metrics and guardrail details,
    no positions), so the 400 cannot point at a field."""
    with pytest.raises(ProxyError) as err:
        Guard(Fake()).check_input(body(tools=[{"type": "function", "function": {"name": "f", "description": "attack"}}]))
    assert err.value.param is None and err.value.code == "content_filter"


def test_guardrail_text_units_are_an_emf_metric_by_model(capsys):
    from gptoss_proxy.wiring import emit

    emit({"request_id": "r", "status": 200, "model": "m", "consumer": "c", "prompt_tokens": 1, "completion_tokens": 1, "guardrail_calls": 3, "guardrail_units": 5})
    line = json.loads(capsys.readouterr().out)
    names = [m["Name"] for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    assert "GuardrailUnits" in names and line["GuardrailUnits"] == 5
