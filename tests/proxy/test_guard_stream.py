"""The stream guard: entities across batch boundaries (property test), text units per field, first batch.

The fake guardrail below models what ApplyGuardrail does per text block (docs.aws.amazon.com/bedrock/latest/
APIReference/API_runtime_ApplyGuardrail.html: ``content`` is an array of text blocks, ``outputs`` the texts
with sensitive information masked, ``action`` GUARDRAIL_INTERVENED when a policy blocked or masked): it masks
regex entities (e-mail, card number, SSN) with ``{TYPE}`` and blocks a word. It is a model of the behaviour,
not evidence about AWS; what it must show is that the stream guard releases what one whole-text check would.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptoss_proxy.core.guard import ContentBlocked, Guard, GuardVerdict, StreamGuard, _safe_cut, text_units

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"\b\d{4}(?:[ -]?\d{4}){3}\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
BLOCKED_WORD = "forbidden"


def mask(text: str) -> str:
    return SSN.sub("{US_SOCIAL_SECURITY_NUMBER}", CARD.sub("{CREDIT_DEBIT_CARD_NUMBER}", EMAIL.sub("{EMAIL}", text)))


class FakeGuardrail:
    """Masks entities per block, blocks a word in any block, and counts calls and text units per call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, source, texts):
        self.calls.append(list(texts))
        if any(BLOCKED_WORD in t for t in texts):
            return GuardVerdict(blocked=True, texts=(), message="withheld")
        out = tuple(mask(t) for t in texts)
        return GuardVerdict(blocked=False, texts=out, masked=out != tuple(texts))

    @property
    def units(self) -> int:
        return sum(text_units(c) for c in self.calls)


def run(text: str, cuts: list[int], guard: Guard) -> tuple[str, bool]:
    """Feeds ``text`` cut at ``cuts``; returns (released text, whether the stream was cut by the guardrail)."""
    stream, out = guard.stream(), ""
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(text))), len(text)]
    try:
        for a, b in zip(bounds, bounds[1:]):
            out += stream.feed(text[a:b])
        out += stream.flush()
    except ContentBlocked:
        return out, True
    return out, False


words = st.sampled_from(["the", "model", "said", "so,", "and", "then.", "Paris", "London", "it", "is", "a", "card:", "mail", "1999", "42", "x"])
entities = st.one_of(
    st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,6})?@[a-z]{2,8}\.(com|org|co\.uk)", fullmatch=True),
    st.from_regex(r"4[0-9]{3}([ -]?)[0-9]{4}\1[0-9]{4}\1[0-9]{4}", fullmatch=True),
    st.from_regex(r"[0-9]{3}-[0-9]{2}-[0-9]{4}", fullmatch=True),
)
separators = st.sampled_from([" ", " ", " ", "\n", "  ", ". ", ", "])


@st.composite
def texts(draw, blocked: bool = False):
    tokens = draw(st.lists(st.one_of(words, words, words, entities), min_size=1, max_size=160))
    if blocked:
        tokens.insert(draw(st.integers(0, len(tokens))), BLOCKED_WORD)
    seps = draw(st.lists(separators, min_size=len(tokens), max_size=len(tokens)))
    return "".join(t + s for t, s in zip(tokens, seps)).strip()


chunkings = st.lists(st.integers(0, 4000), max_size=120)
sizes = st.tuples(st.integers(8, 64), st.integers(60, 400))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts(), cuts=chunkings, size=sizes)
def test_safe_stream_releases_what_one_whole_text_check_releases(text, cuts, size):
    """safe mode: for any chunking and entity position, the released concatenation is the whole-text mask."""
    fake = FakeGuardrail()
    released, cut = run(text, cuts, Guard(fake, first_batch_chars=size[0], batch_chars=size[1]))
    assert not cut
    assert released == mask(text)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts(blocked=True), cuts=chunkings, size=sizes)
def test_safe_stream_never_releases_a_blocked_word_and_is_cut(text, cuts, size):
    released, cut = run(text, cuts, Guard(FakeGuardrail(), first_batch_chars=size[0], batch_chars=size[1]))
    assert cut and BLOCKED_WORD not in released
    assert mask(text).startswith(released)  # what left before the block is the whole-text mask of a prefix


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(texts(), texts(blocked=True)), cuts=chunkings, size=sizes)
def test_fast_stream_releases_text_at_once_and_is_cut_exactly_when_the_whole_text_check_intervenes(text, cuts, size):
    """fast mode: text leaves unchecked at once, so any intervention (mask or block) must cut the stream."""
    released, cut = run(text, cuts, Guard(FakeGuardrail(), fast=True, first_batch_chars=size[0], batch_chars=size[1]))
    intervenes = BLOCKED_WORD in text or mask(text) != text
    assert cut == intervenes
    assert text.startswith(released)
    if not intervenes:
        assert released == text


PROSE = ("The capital of France is Paris, and it has been for a long time. People often ask about it; the answer "
         "rarely changes. Write to jane.doe@example.com if you need details, or read the guide. ")


@pytest.mark.parametrize("n", [1, 47, 48, 200, 999, 1000, 1001, 1999, 2000, 2001, 3500, 4999, 7777, 9999, 10000, 12345, 16383, 16384])
def test_text_units_per_field_stay_within_one_more_than_the_minimum(n):
    """Progressive batches cost at most one text unit more than ceil(chars/1000) (pricing: a text unit holds up
    to 1,000 characters, a longer text counts as several; aws.amazon.com/bedrock/pricing), for answers up to
    16,384 characters (4,096 tokens, the default max_tokens), fed token by token (~4 characters)."""
    text = (PROSE * (n // len(PROSE) + 1))[:n]
    fake = FakeGuardrail()
    released, _ = run(text, list(range(0, n, 4)), Guard(fake))
    assert released == mask(text)
    assert all(len(c[0]) <= 1000 for c in fake.calls)
    assert fake.units <= math.ceil(n / 1000) + 1, [len(c[0]) for c in fake.calls]
    assert sum(len(c[0]) for c in fake.calls) == n  # no character paid twice on prose


def test_the_first_batch_is_small_and_released_before_the_first_full_unit():
    fake = FakeGuardrail()
    stream = Guard(fake).stream()
    released = ""
    fed = 0
    while not released:
        released += stream.feed(PROSE[fed:fed + 4])
        fed += 4
    assert fed <= 48 + 32 + 4  # first batch + entity look-ahead
    assert len(fake.calls) == 1 and len(fake.calls[0][0]) <= 48


@pytest.mark.parametrize("offset", [*range(0, 990, 99), *range(990, 1060, 3)])  # the second cut is near 1,048
def test_a_run_without_safe_whitespace_is_cut_hard_and_a_long_email_across_the_cut_is_still_masked(offset):
    """The one case where characters are sent twice: no whitespace to cut at (a CSV line, base64, ...)."""
    email = "a.very.long.firstname.middlename.lastname@department.example.com"  # 41 before the @: longer than ENTITY_CHARS
    text = "1," * (offset // 2) + email + ",2" * 700 + " done"
    fake = FakeGuardrail()
    released, _ = run(text, list(range(0, len(text), 5)), Guard(fake))
    assert released == mask(text) and "a.very" not in released
    assert fake.units <= math.ceil(len(text) / 1000) + 2


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("card 4111 1111 1111 1111 ok", 20, 4),  # never between digit groups
        ("say Jane Smith is", 12, 3),  # never between two capitalised words (a name)
        ("Hello. Jane Smith", 12, 6),  # after sentence punctuation, a capital may follow
        ("a b", 2, 1),
        ("abc ", 3, 0),  # trailing whitespace: what follows is unknown
    ],
)
def test_safe_cut_positions(text, limit, cut):
    assert _safe_cut(text, limit) == cut


def test_stream_guard_is_a_no_op_without_a_guardrail():
    stream = StreamGuard(Guard(None))
    assert stream.feed("abc") == "abc" and stream.flush() == ""


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.lists(words, max_size=3).map(" ".join), entities, texts()),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.sampled_from(["a", "city", "to", "note"]), children, max_size=3)),
    max_leaves=8,
)


def _mask_json(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_json(v) for k, v in value.items()}
    return value


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.dictionaries(st.sampled_from(["a", "city", "to", "note"]), json_values, min_size=1, max_size=3), min_size=1, max_size=3),
       cuts=st.lists(st.integers(1, 400), max_size=30), data=st.data())
def test_streamed_tool_calls_release_each_call_whole_masked_inside_its_json_for_any_chunking(calls, cuts, data):
    """However the argument deltas are cut, each call is released once, complete, with every JSON string value
    masked as a whole check would, and the arguments stay valid JSON."""
    from gptoss_proxy.core.guard import ToolCallGuard

    guard = ToolCallGuard(Guard(FakeGuardrail()))
    released = []
    for index, args in enumerate(calls):
        raw = json.dumps(args)
        bounds = [0, *sorted({c for c in cuts if c < len(raw)}), len(raw)]
        released += guard.feed([{"index": index, "id": f"c{index}", "type": "function", "function": {"name": "send", "arguments": ""}}])
        for a, b in zip(bounds, bounds[1:]):
            out = guard.feed([{"index": index, "function": {"arguments": raw[a:b]}}])
            assert all(c["index"] < index for c in out)  # only earlier, complete calls leave
            released += out
    released += guard.finish()
    assert [c["id"] for c in released] == [f"c{i}" for i in range(len(calls))]
    assert [json.loads(c["function"]["arguments"]) for c in released] == [_mask_json(a) for a in calls]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=st.dictionaries(st.sampled_from(["a", "city", "to", "note"]), json_values, min_size=1, max_size=4))
def test_masked_input_arguments_stay_valid_json_with_every_string_masked(args):
    body = {"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "send", "arguments": json.dumps(args)}}]}]}
    out, _ = Guard(FakeGuardrail()).check_input(body)
    assert json.loads(out["messages"][1]["tool_calls"][0]["function"]["arguments"]) == _mask_json(args)
