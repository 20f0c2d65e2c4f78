"""Guardrail checks on everything the model reads (INPUT) and writes (OUTPUT).

``apply(source, texts) -> GuardVerdict`` is injected (the Bedrock ApplyGuardrail adapter, or a fake); one call
checks a list of text blocks (ApplyGuardrail ``content`` is an array of text blocks). Any error from it fails
closed: the text it was checking never reaches the model or the client.

- Input: every text the backend turns into prompt tokens (message contents, names, earlier tool-call names and
  arguments, tool results, tool definitions walked as JSON schema, the response_format schema) is checked in as
  few calls as the per-call size limit allows; masked text goes back into the field it came from (inside JSON
  string values for arguments, so they stay valid JSON). Identifiers (function names, property names, JSON keys)
  cannot be masked without changing their meaning: a masked identifier refuses the request.
- Output: ``check_message`` for whole answers; ``StreamGuard`` per streamed field (progressive batches, cut only
  where no entity can straddle the cut); ``ToolCallGuard`` buffers each streamed tool call until it is complete.

Billing: a text unit holds up to 1,000 characters; a longer text is several units (5,600 characters = 6 units;
aws.amazon.com/bedrock/pricing). Units are counted here per text block, ceil(len/1000), which is the upper
reading of that rule (UNCONFIRMED(manual:guardrail-units) whether AWS counts per block or per call).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from gptoss_proxy.core.errors import ProxyError

UNIT_CHARS = 1000
#: largest call: 25 text units, the smallest "maximum input size in text units" per request that AWS lists for
#: guardrail content/sensitive-information policies (eu-south-1, eu-west-3, sa-east-1; 1,000 in the large
#: regions; docs.aws.amazon.com/general/latest/gr/bedrock.html). Works in every region; a user of another proxy
#: got 429 from ApplyGuardrail above 25,000 characters in one request (github.com/BerriAI/litellm/issues/19501).
MAX_CALL_CHARS = 25_000
#: characters held back beyond a batch before it is cut, so the cut can be placed where no entity straddles it
ENTITY_CHARS = 32
#: characters checked twice after a hard cut (a run with no safe whitespace): longer than any e-mail address
#: in practice, so an entity cut there is seen whole by the next check
OVERLAP_CHARS = 128
#: the first streamed batch of a field (the rest are ~1,000 characters): what the first token waits for
FIRST_BATCH_CHARS = 48

BLOCKED_INPUT = "Your request was blocked by the content policy."
REFUSED_IDENTIFIER = "Your request was blocked by the content policy: a name or key in {where} would have to be masked."
REFUSED_TOOL_CALL = "A tool call was withheld by the content policy: its masked arguments are not valid JSON."
_RANK = {"off": 0, "none": 1, "masked": 2, "refused": 3, "blocked": 4}
#: JSON-schema keywords whose string values are fixed vocabulary or references, not prose the model reads
_SCHEMA_SKIP = {"type", "format", "$ref", "$schema", "$id", "required", "$anchor", "$dynamicRef"}
_SCHEMA_NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}


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

    def __init__(self, message: str, action: str = "blocked") -> None:
        super().__init__(message)
        self.message = message
        self.action = action


def text_units(texts: Sequence[str]) -> int:
    """Text units of one call, counted per block: ceil(len/1000) each."""
    return sum(math.ceil(len(t) / UNIT_CHARS) for t in texts if t)


def worst(*actions: str) -> str:
    return max(actions, key=lambda a: _RANK.get(a, 0)) if actions else "none"


# ---- what the model reads: slots in the request body --------------------------------------------------------


@dataclass
class _Slot:
    where: str
    text: str
    put: Callable[[str], None] | None  # None: an identifier, which cannot take a masked value


def _setter(container: Any, key: Any) -> Callable[[str], None]:
    def put(value: str) -> None:
        container[key] = value

    return put


def _json_slots(where: str, value: Any, put: Callable[[Any], None] | None, out: list[_Slot], on_change: Callable[[], None]) -> None:
    """Every string in a JSON value is a slot; object keys are identifiers."""
    if isinstance(value, str):
        if value and put is not None:
            out.append(_Slot(where, value, lambda t: (put(t), on_change())))
        elif value:
            out.append(_Slot(where, value, None))
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(_Slot(where, str(k), None))  # a key: named by its object, never by itself
            _json_slots(f"{where}.{k}", v, _setter(value, k), out, on_change)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _json_slots(f"{where}[{i}]", v, _setter(value, i), out, on_change)


def _schema_slots(where: str, schema: Any, out: list[_Slot]) -> None:
    """A JSON schema as the model sees it: descriptions, titles, enums, examples, defaults, patterns (maskable)
    and property names (identifiers)."""
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            if isinstance(item, str) and item:
                out.append(_Slot(f"{where}[{i}]", item, _setter(schema, i)))
            else:
                _schema_slots(f"{where}[{i}]", item, out)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        path = f"{where}.{key}"
        if key in _SCHEMA_SKIP:
            continue
        if key in _SCHEMA_NAME_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                out.append(_Slot(path, str(name), None))  # a property name: named by its map
                _schema_slots(f"{path}.{name}", sub, out)
        elif isinstance(value, str):
            if value:
                out.append(_Slot(path, value, _setter(schema, key)))
        else:
            _schema_slots(path, value, out)


def _arguments_slots(where: str, fn: dict, out: list[_Slot], after: list[Callable[[], None]]) -> None:
    """Tool-call arguments: decoded JSON strings (so escapes cannot hide text), re-encoded if one was masked."""
    raw = fn.get("arguments")
    if not isinstance(raw, str) or not raw:
        return
    try:
        parsed = json.loads(raw)
    except ValueError:
        out.append(_Slot(where, raw, _setter(fn, "arguments")))  # not JSON: the model reads it as text
        return
    if isinstance(parsed, str):
        out.append(_Slot(where, parsed, lambda t: fn.__setitem__("arguments", json.dumps(t, ensure_ascii=False))))
        return
    changed: list[bool] = []
    slots: list[_Slot] = []
    _json_slots(where, parsed, None, slots, lambda: changed.append(True))
    out.extend(slots)
    after.append(lambda: fn.__setitem__("arguments", json.dumps(parsed, ensure_ascii=False)) if changed else None)


def input_slots(body: dict) -> tuple[list[_Slot], list[Callable[[], None]]]:
    """Every text of the request the backend turns into prompt tokens, with where it goes back."""
    out: list[_Slot] = []
    after: list[Callable[[], None]] = []

    def text(where: str, container: dict, key: str) -> None:
        value = container.get(key)
        if isinstance(value, str) and value:
            out.append(_Slot(where, value, _setter(container, key)))
        elif isinstance(value, list):  # content parts
            for i, part in enumerate(value):
                if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"]:
                    out.append(_Slot(f"{where}[{i}].text", part["text"], _setter(part, "text")))

    for i, m in enumerate(body.get("messages") or []):
        if not isinstance(m, dict):
            continue
        for key in ("content", "reasoning_content", "reasoning", "refusal", "name"):
            text(f"messages[{i}].{key}", m, key)
        for j, call in enumerate(m.get("tool_calls") or []):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict):
                continue
            if isinstance(fn.get("name"), str) and fn["name"]:
                out.append(_Slot(f"messages[{i}].tool_calls[{j}].function.name", fn["name"], None))
            _arguments_slots(f"messages[{i}].tool_calls[{j}].function.arguments", fn, out, after)
    for k, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            continue
        if isinstance(fn.get("name"), str) and fn["name"]:
            out.append(_Slot(f"tools[{k}].function.name", fn["name"], None))
        text(f"tools[{k}].function.description", fn, "description")
        _schema_slots(f"tools[{k}].function.parameters", fn.get("parameters"), out)
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        js = fmt["json_schema"]
        if isinstance(js.get("name"), str) and js["name"]:
            out.append(_Slot("response_format.json_schema.name", js["name"], None))
        text("response_format.json_schema.description", js, "description")
        _schema_slots("response_format.json_schema.schema", js.get("schema"), out)
    return out, after


def _pack(texts: Sequence[str], limit: int) -> list[list[int]]:
    """Indexes of ``texts`` grouped into calls of at most ``limit`` characters (a longer text goes alone)."""
    calls: list[list[int]] = []
    size = 0
    for i, t in enumerate(texts):
        if calls and size + len(t) <= limit:
            calls[-1].append(i)
            size += len(t)
        else:
            calls.append([i])
            size = len(t)
    return calls


class Guard:
    """One request's guardrail: counts calls, text units and the action per field."""

    def __init__(self, apply: ApplyFn | None, *, batch_chars: int = UNIT_CHARS, fast: bool = False,
                 first_batch_chars: int = FIRST_BATCH_CHARS, entity_chars: int = ENTITY_CHARS, max_call_chars: int = MAX_CALL_CHARS,
                 overlap_chars: int = OVERLAP_CHARS) -> None:
        self.apply = apply
        self.batch_chars = batch_chars
        self.fast = fast
        self.first_batch_chars = first_batch_chars
        self.entity_chars = entity_chars
        self.max_call_chars = max_call_chars
        self.overlap_chars = overlap_chars
        self.calls = 0
        self.units = 0
        self.actions: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.apply is not None

    def note(self, where: str, action: str) -> None:
        self.actions[where] = worst(self.actions.get(where, "none"), action)

    def _call(self, source: str, texts: Sequence[str]) -> GuardVerdict:
        self.calls += 1
        self.units += text_units(texts)
        try:
            verdict = self.apply(source, list(texts))
        except ProxyError:
            raise
        except Exception as err:  # fail closed on anything the guardrail call raises
            raise GuardrailUnavailable(err.__class__.__name__) from None
        if not verdict.blocked and len(verdict.texts) != len(texts):
            raise GuardrailUnavailable("answer did not match the texts sent")
        return verdict

    def check_texts(self, source: str, texts: Sequence[str]) -> tuple[list[str], bool, str]:
        """Checks texts in as few calls as the size limit allows; returns (texts, masked, blocked message).
        Identical texts are sent once. A text longer than one call is checked in windows (StreamGuard)."""
        unique = list(dict.fromkeys(t for t in texts if t))
        result: dict[str, str] = {}
        masked = False
        for group in _pack(unique, self.max_call_chars):
            batch = [unique[i] for i in group]
            if len(batch) == 1 and len(batch[0]) > self.max_call_chars:
                long = _LongText(self, source)
                result[batch[0]], was_masked = long.check(batch[0])
                masked |= was_masked
                continue
            verdict = self._call(source, batch)
            if verdict.blocked:
                return [], masked, _safe_message(verdict.message, batch)
            for original, checked in zip(batch, verdict.texts if verdict.masked else batch):
                result[original] = checked
                masked |= checked != original
        return [result.get(t, t) for t in texts], masked, ""

    # ---- input ---------------------------------------------------------------------------------------

    def check_input(self, body: dict | list) -> tuple[Any, str]:
        """Checks every text the model will read; returns the body with masked texts and the action.

        ``body`` is the request body (or, for callers that only have them, the list of messages)."""
        if not self.enabled:
            return body, "off"
        only_messages = isinstance(body, list)
        slots, _ = input_slots({"messages": body} if only_messages else body)  # read only: nothing is put yet
        if not slots:
            return body, "none"
        texts, masked, blocked = self.check_texts("INPUT", [s.text for s in slots])
        if blocked:
            self.note("input", "blocked")
            # ApplyGuardrail does not say which block it blocked, so no ``param`` is named
            raise ProxyError(400, blocked, param=None, code="content_filter")
        if not masked:
            self.note("input", "none")
            return body, "none"
        work = json.loads(json.dumps({"messages": body} if only_messages else body))  # masks go into a copy
        slots, after = input_slots(work)
        for slot, new in zip(slots, texts):
            if new == slot.text:
                continue
            if slot.put is None:
                self.note("input", "refused")
                raise ProxyError(400, REFUSED_IDENTIFIER.format(where=slot.where), param=slot.where, code="content_filter")
            slot.put(new)
        for fn in after:
            fn()
        self.note("input", "masked")
        return (work["messages"] if only_messages else work), "masked"

    # ---- whole output (non-streaming) ------------------------------------------------------------------

    def check_output(self, text: str) -> tuple[str, str]:
        """One output text: returns the text to release and the action; raises ContentBlocked."""
        if not self.enabled or not text:
            return text, "off" if not self.enabled else "none"
        texts, masked, blocked = self.check_texts("OUTPUT", [text])
        if blocked:
            raise ContentBlocked(blocked)
        return texts[0], "masked" if masked else "none"

    def check_message(self, message: dict) -> dict[str, str]:
        """A whole assistant message (content, reasoning, tool calls) in one call where it fits; masks in place.
        Returns the action per field; raises ContentBlocked (blocked, or a tool call that cannot be released)."""
        if not self.enabled:
            return {"content": "off"}
        slots: list[_Slot] = []
        fields: list[str] = []
        for key in ("reasoning_content", "content"):
            if isinstance(message.get(key), str) and message[key]:
                slots.append(_Slot(key, message[key], _setter(message, key)))
                fields.append("reasoning" if key == "reasoning_content" else "content")
        after: list[Callable[[], None]] = []
        raw_args: dict[int, str] = {}
        for j, call in enumerate(message.get("tool_calls") or []):
            fn = call.get("function") or {}
            start = len(slots)
            if isinstance(fn.get("name"), str) and fn["name"]:
                slots.append(_Slot(f"tool_calls[{j}].function.name", fn["name"], None))
            _arguments_slots(f"tool_calls[{j}].function.arguments", fn, slots, after)
            fields += ["tool_calls"] * (len(slots) - start)
            raw_args[j] = fn.get("arguments")
        if not slots:
            return {}
        texts, masked, blocked = self.check_texts("OUTPUT", [s.text for s in slots])
        if blocked:
            for f in set(fields):
                self.note(f, "blocked")
            raise ContentBlocked(blocked)
        actions = {f: "none" for f in fields}
        for slot, new, f in zip(slots, texts, fields):
            if new == slot.text:
                continue
            if slot.put is None:
                self.note(f, "refused")
                raise ContentBlocked(REFUSED_TOOL_CALL, "refused")
            slot.put(new)
            actions[f] = "masked"
        for fn in after:
            fn()
        for j, call in enumerate(message.get("tool_calls") or []):
            args = call.get("function", {}).get("arguments")
            if args != raw_args.get(j) and not _is_json(args):
                self.note("tool_calls", "refused")
                raise ContentBlocked(REFUSED_TOOL_CALL, "refused")
        for f, a in actions.items():
            self.note(f, a)
        return actions

    def log_fields(self) -> dict:
        """What the guardrail did, per output field, for the request log (never the text)."""
        if not self.enabled:
            return {"guardrail_output": "off", "guardrail_calls": 0}
        actions = {k: v for k, v in self.actions.items() if k != "input"}
        fields = {f"guardrail_{k}": v for k, v in actions.items()}
        return {**fields, "guardrail_output": worst(*actions.values()) if actions else "none", "guardrail_calls": self.calls, "guardrail_units": self.units}

    def stream(self, field: str = "content") -> "StreamGuard":
        return StreamGuard(self, field)

    def tool_calls(self) -> "ToolCallGuard":
        return ToolCallGuard(self)


def _is_json(text: Any) -> bool:
    try:
        json.loads(text)
        return True
    except (TypeError, ValueError):
        return False


def _safe_message(message: str, texts: Sequence[str]) -> str:
    """The guardrail's blocked message, unless it contains text that was checked (never echo blocked text)."""
    if not message or any(len(t) >= 8 and t in message for t in texts):
        return BLOCKED_INPUT
    return message


# ---- streamed output -------------------------------------------------------------------------------------


def _safe_cut(text: str, limit: int) -> int:
    """The largest cut position ``s`` (0 < s <= limit) where ``text[s]`` is whitespace that no entity spans:
    not between two digits (card, phone and ID groups) and not between two capitalised words (names).
    Entities without whitespace (e-mail, SSN, card without spaces, words) never span whitespace. 0: none."""
    for s in range(min(limit, len(text) - 1), 0, -1):
        if not text[s].isspace() or text[s - 1].isspace():
            continue
        end = s
        while end < len(text) and text[end].isspace():
            end += 1
        if end >= len(text):
            continue  # the whitespace run may go on: what follows it is not known yet
        before, after = text[s - 1], text[end]
        if before.isdigit() and after.isdigit():
            continue
        word = _word_before(text, s)
        if after.isupper() and word[:1].isupper() and word[-1:] not in ".!?;:,":
            continue
        return s
    return 0


def _word_before(text: str, s: int) -> str:
    start = s
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:s]


class StreamGuard:
    """Guards one output field of a stream (``content``, ``reasoning``).

    Text is checked in batches: a small first batch (``first_batch_chars``) for a fast first token, then
    ``batch_chars`` (~1,000 = one text unit). A batch is checked only once ``entity_chars`` more characters
    have arrived after it, and it is cut at whitespace no entity can span (``_safe_cut``), so each character is
    sent once. Only a run with no such whitespace is cut hard, and then the next batch re-checks the last
    ``overlap_chars`` characters (the one overlap). ``safe``: text is released after its batch passed (masked
    text replaces it). ``fast``: text is released at once; any intervention (block or mask) cuts the stream.
    """

    def __init__(self, guard: Guard, field: str = "content") -> None:
        self.guard = guard
        self.field = field
        self.pending = ""  # received, not yet checked (safe: not yet released)
        self.batches = 0
        self.grow = 0  # extra batch size after a hard cut whose end was masked
        self.action = "none" if guard.enabled else "off"
        self.chars = 0

    def _target(self) -> int:
        return self.guard.first_batch_chars if self.batches == 0 else self.guard.batch_chars

    def feed(self, text: str) -> str:
        if not self.guard.enabled:
            return text
        self.chars += len(text)
        self.pending += text
        released = text if self.guard.fast else ""
        while len(self.pending) >= self._target() + self.grow + self.guard.entity_chars:
            out = self._batch(final=False)
            if not self.guard.fast:
                released += out
        return released

    def flush(self) -> str:
        """End of the field: checks what is left; returns what may be released now."""
        if not self.guard.enabled or not self.pending:
            return ""
        out = ""
        while len(self.pending) > self._target() + self.grow:  # keep every batch within one text unit
            out += self._batch(final=False)
        if self.pending:
            out += self._batch(final=True)
        return "" if self.guard.fast else out

    def _batch(self, final: bool) -> str:
        target = self._target()
        if final:
            cut, hard = len(self.pending), False
        else:
            cut = _safe_cut(self.pending, target)
            if cut == 0:  # nothing fits the target: take the next safe cut within one unit, else cut hard
                cut = _safe_cut(self.pending, min(len(self.pending) - self.guard.entity_chars, self.guard.batch_chars))
            hard = cut == 0
            if hard:
                cut = min((target if self.batches else self.guard.batch_chars) + self.grow, len(self.pending))
        window, self.pending = self.pending[:cut], self.pending[cut:]
        self.batches += 1
        verdict = self.guard._call("OUTPUT", [window])
        if verdict.blocked:
            self._note("blocked")
            raise ContentBlocked(_safe_message(verdict.message, [window]))
        checked = verdict.texts[0] if verdict.masked else window
        self._note("none")
        if checked != window:
            if self.guard.fast:
                self._note("masked")
                raise ContentBlocked(verdict.message or "The model's answer was withheld by the content policy.", "masked")
            self._note("masked")
        released = checked
        if hard and not final:
            # the cut may split an entity: the last ``overlap_chars`` characters of this batch are checked again
            # with the next one (the only characters sent twice) and released after that check. If a mask
            # reaches into them, nothing is released yet: the batch is checked again, larger, with more text.
            keep = min(self.guard.overlap_chars, len(window) // 2)
            tail = window[len(window) - keep:] if len(window) > keep else ""
            if tail and checked.endswith(tail):
                released = checked[: len(checked) - keep]
                self.pending = tail + self.pending
                self.grow = 0
            else:
                released = ""
                self.pending = window + self.pending
                self.grow += self.guard.batch_chars
        return released

    def _note(self, action: str) -> None:
        self.action = worst(self.action, action)
        self.guard.note(self.field, action)


class _LongText:
    """A single input/output text longer than one call: checked in call-sized windows with the stream guard."""

    def __init__(self, guard: Guard, source: str) -> None:
        self.guard = guard
        self.source = source

    def check(self, text: str) -> tuple[str, bool]:
        size = self.guard.max_call_chars - self.guard.entity_chars
        inner = Guard(self._apply, batch_chars=size, first_batch_chars=size, entity_chars=self.guard.entity_chars, overlap_chars=self.guard.overlap_chars)
        stream = inner.stream()
        try:
            out = stream.feed(text) + stream.flush()
        except ContentBlocked as blocked:
            raise ProxyError(400, blocked.message, param=None, code="content_filter") if self.source == "INPUT" else blocked
        return out, out != text

    def _apply(self, source: str, texts: Sequence[str]) -> GuardVerdict:
        return self.guard._call(self.source, texts)


# ---- streamed tool calls ---------------------------------------------------------------------------------


@dataclass
class _PendingCall:
    index: int
    id: str | None = None
    type: str | None = None
    name: str = ""
    arguments: str = ""
    extra: dict = field(default_factory=dict)


class ToolCallGuard:
    """Buffers streamed tool-call deltas per call index; a call is complete when the next index starts, a
    finish_reason arrives, or the stream ends. ``feed`` / ``finish`` return the complete, checked calls as
    stream ``tool_calls`` delta entries; a blocked or unreleasable call raises ContentBlocked and nothing of it
    is released."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.calls: dict[int, _PendingCall] = {}
        self.current: int | None = None
        self.released = 0

    def feed(self, deltas: list) -> list[dict]:
        if not self.guard.enabled:  # nothing to check: stream the deltas as they come
            return [d for d in deltas or [] if isinstance(d, dict)]
        done: list[dict] = []
        for d in deltas or []:
            if not isinstance(d, dict):
                continue
            index = d.get("index", self.current if self.current is not None else 0)
            if self.current is not None and index != self.current and self.current in self.calls:
                done += self._complete(self.current)
            self.current = index
            call = self.calls.setdefault(index, _PendingCall(index))
            call.id = d.get("id") or call.id
            call.type = d.get("type") or call.type
            fn = d.get("function") or {}
            call.name += fn.get("name") or ""
            call.arguments += fn.get("arguments") or ""
        return done

    def finish(self) -> list[dict]:
        done: list[dict] = []
        for index in sorted(self.calls):
            done += self._complete(index)
        self.current = None
        return done

    @property
    def pending(self) -> bool:
        return bool(self.calls)

    def _complete(self, index: int) -> list[dict]:
        call = self.calls.pop(index)
        message = {"tool_calls": [{"function": {"name": call.name, "arguments": call.arguments}}]}
        self.guard.check_message(message)  # raises ContentBlocked: nothing of the call is released
        fn = message["tool_calls"][0]["function"]
        self.released += 1
        return [{"index": call.index, "id": call.id, "type": call.type or "function", "function": {"name": fn["name"], "arguments": fn["arguments"]}}]


class StreamFields:
    """The guard of one streamed choice: a StreamGuard for reasoning and for content, a ToolCallGuard for tool
    calls. Each item returned is a delta to send. When the model moves to another field, what is pending in the
    previous one is checked and released first, so clients see the model's order (reasoning before the answer,
    text before the tool call that follows it)."""

    def __init__(self, guard: Guard) -> None:
        self.reasoning, self.content, self.tools = guard.stream("reasoning"), guard.stream("content"), guard.tool_calls()
        self.last: str | None = None

    def _switch(self, to: str) -> list[dict]:
        out: list[dict] = []
        if self.last is not None and self.last != to:
            out = self._flush(self.last)
        self.last = to
        return out

    def _flush(self, name: str) -> list[dict]:
        if name == "reasoning":
            text = self.reasoning.flush()
            return [{"reasoning_content": text}] if text else []
        if name == "content":
            text = self.content.flush()
            return [{"content": text}] if text else []
        return [{"tool_calls": calls} for calls in [self.tools.finish()] if calls]

    def feed(self, reasoning: str, content: str, tool_calls: list | None) -> list[dict]:
        out: list[dict] = []
        if reasoning:
            out += self._switch("reasoning")
            text = self.reasoning.feed(reasoning)
            out += [{"reasoning_content": text}] if text else []
        if content:
            out += self._switch("content")
            text = self.content.feed(content)
            out += [{"content": text}] if text else []
        if tool_calls:
            out += self._switch("tools")
            calls = self.tools.feed(tool_calls)
            out += [{"tool_calls": calls}] if calls else []
        return out

    def finish_calls(self) -> list[dict]:
        """A finish_reason completes the calls still being streamed (after pending text, in order)."""
        if not self.tools.pending:
            return []
        return self._switch("tools") + self._flush("tools")

    def finish(self) -> list[dict]:
        out: list[dict] = []
        for name in ("reasoning", "content", "tools"):
            out += self._flush(name)
        return out
