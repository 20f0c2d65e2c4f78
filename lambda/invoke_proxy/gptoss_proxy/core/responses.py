"""OpenAI's Responses API (``POST /v1/responses``) on the chat-completions core: one core, two wire formats.

A Responses request is translated into a chat-completions body and run through the chat pipeline (the service's
public ``chat``, injected: this module imports no service, so there is no import cycle) — the same
validation, input and output guardrails (batched while streaming), retries, fallback, deadline, errors and log
record — and the chat answer (a ``chat.completion`` or its SSE chunks) is translated into a ``response`` object or
the Responses event stream. Object shapes and event names follow the openai package's types
(openai-python ``src/openai/types/responses/``: ``response.py``, ``response_create_params.py``,
``response_stream_event.py`` and the ``response_*_event.py`` files), which is what the SDKs parse.

Stateless subset: nothing is stored, so ``store`` left out means ``false`` (OpenAI's own default is true), and
``store: true``, ``previous_response_id``, ``conversation``, ``background`` and ``prompt`` are a 400.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any, Callable, Iterator, Mapping

from gptoss_proxy.core import sealed
from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.request import CLIENT_FIELDS, EXTENSIONS, client_metadata, parse_json
from gptoss_proxy.core.settings import Settings
from gptoss_proxy.core.wire import Response, json_response

#: the chat pipeline: (headers, chat request dict, deadline, log record) -> Response (``ProxyService.chat``)
Chat = Callable[[Mapping[str, str], dict, float, dict], Response]


#: Every field of OpenAI's Responses request (openai-python 2.54 ``ResponseCreateParamsBase`` + ``stream``,
#: openai/types/responses/response_create_params.py). Anything else is a 400 naming it.
OPENAI_FIELDS = {
    "background", "context_management", "conversation", "include", "input", "instructions", "max_output_tokens",
    "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier",
    "service_tier", "store", "stream", "stream_options", "temperature", "text", "tool_choice", "tools",
    "top_logprobs", "top_p", "truncation", "user",
}
#: accepted and ignored: they steer OpenAI's own service (tiers, caching, abuse tracking, truncation, obfuscation
#: padding, hosted-tool limits) and change nothing about what gpt-oss answers here
IGNORED_FIELDS = (
    "client_metadata", "max_tool_calls", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "safety_identifier", "service_tier", "stream_options", "truncation", "user",
)
#: they need state this stateless proxy does not keep, or services it does not have
NEEDS_STORAGE = {
    "previous_response_id": "previous responses are not stored here; send the whole conversation in 'input'",
    "conversation": "conversations are not stored here; send the whole conversation in 'input'",
    "prompt": "stored prompt templates are not available here; send the text in 'instructions' and 'input'",
    "background": "background responses need storage, which this stateless proxy does not keep",
    "context_management": "server-side context compaction is not available here",
    "moderation": "OpenAI moderation models are not available here; the platform's guardrail checks every request and answer",
}
#: ``include`` values honoured (openai-python types/responses/response_includable.py); others are accepted and
#: ignored (hosted-tool results, logprobs, images this proxy has none of)
ENCRYPTED_REASONING = "reasoning.encrypted_content"
#: ``reasoning.summary`` values (openai-python types/shared/reasoning.py)
SUMMARIES = ("auto", "concise", "detailed")
#: a ``concise`` summary: the reasoning's first characters, cut at a sentence or word end
CONCISE_CHARS = 600
#: OpenAI's answer to a reference to an item it did not store (HTTP 404; quoted in github.com/vercel/ai/issues/7543
#: and github.com/can1357/oh-my-pi/issues/41)
ITEM_NOT_FOUND = ("Item with id '{id}' not found. Items are not persisted when `store` is set to false. "
                  "Try again with `store` set to true, or remove this item from your input.")
#: ids this proxy issues: a prefix and 32 hex digits (``_id``)
_OWN_ID = re.compile(r"(rs|msg|fc)_[0-9a-f]{32}")
#: chat parameter names (in the core's messages) → the Responses names the caller used
PARAMS = {
    "max_completion_tokens": "max_output_tokens",
    "reasoning_effort": "reasoning.effort",
    "response_format": "text.format",
    "messages": "input",
}


def _bad(message: str, param: str | None = None, code: str = "invalid_value") -> ProxyError:
    return ProxyError(400, message, param=param, code=code)


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


# ---- request: Responses → chat ---------------------------------------------------------------------------


def _text(content: Any, where: str) -> str:
    """A message's content (a string or input_text / output_text / refusal parts) as text; gpt-oss reads text only."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"Invalid type for '{where}': expected a string or an array of content parts.", where, "invalid_type")
    out = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            out.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            out.append(part["refusal"])
        else:
            raise _bad(f"Invalid '{where}[{i}]': {kind!r} content is not supported; gpt-oss reads text only (input_text, output_text).", f"{where}[{i}]")
    return "".join(out)


def _messages(body: dict, unseal: Callable[[str], str] | None = None) -> list[dict]:
    """``instructions`` + ``input`` → chat messages. Function calls become an assistant message's ``tool_calls``
    (consecutive calls share one message: parallel calls), their outputs ``tool`` messages. A reasoning item's text
    (its ``encrypted_content`` opened with ``unseal``, else its ``reasoning_text`` content) becomes the
    ``reasoning_content`` of the assistant message that follows it; the chat core keeps it only on the current
    turn's tool-call steps, as harmony does (``request.reasoning_history``). ``item_reference`` items to ids this
    proxy issued are skipped (nothing is stored; the reasoning round trip carries what matters); others are
    OpenAI's 404."""
    messages: list[dict] = []
    pending: list[str] = []  # reasoning waiting for the assistant message it belongs to

    def assistant(new: dict | None) -> dict:
        last = messages[-1] if messages else None
        target = last if new is None and last and last["role"] == "assistant" else new
        if target is not None and target is not last:
            messages.append(target)
        if pending and target is not None:
            target["reasoning_content"] = (target.get("reasoning_content") or "") + "\n".join(pending)
            pending.clear()
        return target
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise _bad("Invalid type for 'instructions': expected a string.", "instructions", "invalid_type")
        messages.append({"role": "system", "content": instructions})
    items = body.get("input")
    if items is None:
        raise _bad("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(items, str):
        return messages + [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise _bad("Invalid 'input': expected a string or a non-empty array of input items.", "input")
    for i, item in enumerate(items):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise _bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise _bad(f"Invalid value for '{where}.role': {role!r}; supported values are: user, system, developer, assistant.", f"{where}.role")
            if "content" not in item:
                raise _bad(f"Missing required parameter: '{where}.content'.", f"{where}.content", "missing_required_parameter")
            if role == "assistant":
                assistant({"role": "assistant", "content": _text(item["content"], f"{where}.content")})
            else:
                pending.clear()  # reasoning before a user turn belongs to no answer
                messages.append({"role": role, "content": _text(item["content"], f"{where}.content")})
        elif kind == "function_call":
            for key in ("call_id", "name", "arguments"):
                if not isinstance(item.get(key), str):
                    raise _bad(f"Missing required parameter: '{where}.{key}' (a string).", f"{where}.{key}", "missing_required_parameter")
            call = {"id": item["call_id"], "type": "function", "function": {"name": item["name"], "arguments": item["arguments"]}}
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant":  # text then calls, or parallel calls: one assistant turn
                assistant(None).setdefault("tool_calls", []).append(call)
            else:
                assistant({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise _bad(f"Missing required parameter: '{where}.call_id'.", f"{where}.call_id", "missing_required_parameter")
            output = item.get("output")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": _text(output if output is not None else "", f"{where}.output")})
        elif kind == "reasoning":
            text = _reasoning_text(item, where, unseal)
            if text:
                pending.append(text)
        elif kind == "item_reference":
            ref = item.get("id")
            if not isinstance(ref, str) or not _OWN_ID.fullmatch(ref):
                raise ProxyError(404, ITEM_NOT_FOUND.format(id=ref), param=f"{where}.id", code="item_not_found")
        else:
            raise _bad(
                f"Invalid value for '{where}.type': {kind!r}; supported item types are: message, function_call, function_call_output, reasoning.",
                f"{where}.type",
            )
    return messages


def _reasoning_text(item: dict, where: str, unseal: Callable[[str], str] | None) -> str:
    """A reasoning item's text: its ``encrypted_content`` opened (this proxy sealed it: authentic), else its
    ``reasoning_text`` content parts (the client's own text, checked by the input guardrail like any other).
    Summaries are left out: they are derived from the reasoning."""
    token = item.get("encrypted_content")
    if token is not None:
        if not isinstance(token, str):
            raise _bad(f"Invalid type for '{where}.encrypted_content': expected a string.", f"{where}.encrypted_content", "invalid_type")
        if unseal is None:
            raise _bad(f"Invalid '{where}.encrypted_content': this proxy has no reasoning key configured, so it cannot open encrypted reasoning.",
                       f"{where}.encrypted_content", "unsupported_value")
        return unseal(token)
    parts = item.get("content") or []
    if not isinstance(parts, list):
        raise _bad(f"Invalid type for '{where}.content': expected an array of reasoning_text parts.", f"{where}.content", "invalid_type")
    return "".join(p["text"] for p in parts if isinstance(p, dict) and p.get("type") == "reasoning_text" and isinstance(p.get("text"), str))


def _opener(sealer: "sealed.Sealer | None", route: str) -> Callable[[str], str] | None:
    if sealer is None:
        return None

    def unseal(token: str) -> str:
        try:
            return sealed.open_reasoning(sealer, token, route)
        except sealed.SealBroken:
            raise _bad("Invalid 'encrypted_content': it could not be verified. Send back encrypted reasoning exactly as this proxy "
                       f"returned it, to the same model ('{route}'), or leave the reasoning item out.", "input", "invalid_encrypted_content") from None
        except sealed.SealUnavailable:
            raise ProxyError(503, "The encrypted reasoning could not be opened right now; retry the request.", type="api_error", code="reasoning_key_unavailable") from None

    return unseal


def _tools(tools: Any) -> list[dict]:
    if not isinstance(tools, list):
        raise _bad("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise _bad(f"Invalid value for 'tools[{i}].type': {kind!r}; only 'function' tools are available here (no hosted tools).", f"tools[{i}].type", "unsupported_value")
        if not isinstance(tool.get("name"), str):
            raise _bad(f"Missing required parameter: 'tools[{i}].name'.", f"tools[{i}].name", "missing_required_parameter")
        out.append({"type": "function", "function": {k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None}})
    return out


def _tool_choice(choice: Any) -> Any:
    if choice in ("none", "auto", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise _bad("Invalid 'tool_choice': expected 'none', 'auto', 'required' or {'type': 'function', 'name': ...}.", "tool_choice")


def _text_format(text: Any) -> dict | None:
    """``text.format`` → chat ``response_format`` (``text.verbosity`` is ignored: a GPT-5 setting)."""
    if not isinstance(text, dict):
        raise _bad("Invalid type for 'text': expected an object.", "text", "invalid_type")
    fmt = text.get("format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind == "json_schema":
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": spec}
    raise _bad("Invalid 'text.format.type': supported values are 'text', 'json_object' and 'json_schema'.", "text.format.type")


def options(body: dict, can_seal: bool) -> tuple[bool, str | None]:
    """What the response carries besides the answer: (``encrypted_content`` on reasoning items, the summary mode)."""
    include = body.get("include")
    if include is not None and not (isinstance(include, list) and all(isinstance(v, str) for v in include)):
        raise _bad("Invalid type for 'include': expected an array of strings.", "include", "invalid_type")
    encrypted = ENCRYPTED_REASONING in (include or [])
    if encrypted and not can_seal:
        raise _bad("Invalid 'include': 'reasoning.encrypted_content' needs the proxy's reasoning key, which is not configured here.", "include", "unsupported_value")
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    summary = reasoning.get("summary") if reasoning.get("summary") is not None else reasoning.get("generate_summary")
    if summary is not None and summary not in SUMMARIES:
        raise _bad(f"Invalid value for 'reasoning.summary': {summary!r}; supported values are: {', '.join(SUMMARIES)}.", "reasoning.summary")
    return encrypted, summary


def summary_of(text: str, mode: str | None) -> str:
    """The reasoning summary: gpt-oss writes no summaries, and another model call per answer would double its
    cost, so the summary is the guarded reasoning itself — whole for ``auto`` and ``detailed``, its first
    ``CONCISE_CHARS`` characters and " …" for ``concise`` (a prefix, so a stream can send it as it comes)."""
    if mode != "concise" or len(text) <= CONCISE_CHARS:
        return text
    return text[:CONCISE_CHARS] + " …"


def chat_body(body: dict, unseal: Callable[[str], str] | None = None) -> dict:
    """A Responses request body → the equivalent chat-completions body (validated further by the chat core)."""
    unknown = sorted(k for k in body if k not in OPENAI_FIELDS | EXTENSIONS | CLIENT_FIELDS)
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")
    body = {k: v for k, v in body.items() if v is not None}  # null means absent
    if body.get("store") is True:
        raise _bad(
            "Invalid 'store': responses are not stored here (a stateless proxy); send 'store': false or leave it out, and send the whole conversation in 'input'.",
            "store",
            "unsupported_value",
        )
    for key, why in NEEDS_STORAGE.items():
        if key in body and body[key] is not False:
            raise _bad(f"Invalid '{key}': {why}.", key, "unsupported_parameter")
    for key in ("store", "parallel_tool_calls", "background"):
        if key in body and not isinstance(body[key], bool):
            raise _bad(f"Invalid type for '{key}': expected a boolean.", key, "invalid_type")
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict) and len(metadata) <= 16 and all(isinstance(v, str) and len(k) <= 64 and len(v) <= 512 for k, v in metadata.items())):
        # OpenAI's Metadata: "up to 16 key-value pairs", keys up to 64 and values up to 512 characters (openai/types/responses/response_create_params.py, `metadata`)
        raise _bad("Invalid 'metadata': expected an object of at most 16 string values (keys up to 64, values up to 512 characters).", "metadata")
    if body.get("top_logprobs"):
        raise _bad("Invalid 'top_logprobs': log probabilities are offered on /v1/chat/completions (SageMaker routes) only.", "top_logprobs", "unsupported_parameter")
    client_metadata(body.get("client_metadata"))
    chat: dict[str, Any] = {"messages": _messages(body, unseal)}
    for key in ("model", "temperature", "top_p", "parallel_tool_calls", "metadata", "stream", *EXTENSIONS):
        if key in body and key != "reasoning":  # `reasoning` is OpenAI's field here: mapped below
            chat[key] = body[key]
    if "max_output_tokens" in body:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    if "tools" in body:
        chat["tools"] = _tools(body["tools"])
    if "tool_choice" in body:
        chat["tool_choice"] = _tool_choice(body["tool_choice"])
    reasoning = body.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, dict):
            raise _bad("Invalid type for 'reasoning': expected an object.", "reasoning", "invalid_type")
        if reasoning.get("effort") is not None:
            chat["reasoning_effort"] = reasoning["effort"]  # summary / generate_summary: see ``summary_of``
        budget = {k: reasoning[k] for k in ("max_tokens", "min_tokens", "enabled") if reasoning.get(k) is not None}
        if budget:  # the chat core's reasoning budget extension (core/budget.py), in the same object
            chat["reasoning"] = budget
    if "text" in body:
        fmt = _text_format(body["text"])
        if fmt is not None:
            chat["response_format"] = fmt
    if chat.get("stream") is True:
        chat["stream_options"] = {"include_usage": True}  # response.completed carries the usage
    return chat


def _renamed(err: ProxyError) -> ProxyError:
    """The chat core's 400s name chat parameters; say them in the Responses names the caller used."""
    if err.status == 400 and err.param:
        for chat_name, name in PARAMS.items():
            if err.param == chat_name or err.param.startswith(chat_name + "."):
                err.message = err.message.replace(f"'{chat_name}", f"'{name}")
                err.param = name + err.param[len(chat_name):]
                if chat_name == "response_format":
                    err.param = err.param.replace(".json_schema", "")
                    err.message = err.message.replace("text.format.json_schema.", "text.format.")
                break
    return err


# ---- response: chat → Responses --------------------------------------------------------------------------


class _Shape:
    """What every ``response`` object of one request repeats from the request (echoed as OpenAI does)."""

    def __init__(self, body: dict, chat: dict, seal: Callable[[str, str], str] | None = None, summary: str | None = None) -> None:
        self.id = _id("resp")
        self.created_at = int(time.time())
        self.request, self.chat = body, chat
        self.seal = seal  # (reasoning text, item id) -> encrypted_content, when the client asked for it
        self.summary = summary

    def reasoning_item(self, text: str, status: str = "completed", item_id: str | None = None) -> dict:
        item_id = item_id or _id("rs")
        item = _reasoning_item(text, status, item_id)
        if self.summary:
            item["summary"] = [{"type": "summary_text", "text": summary_of(text, self.summary)}]
        if self.seal is not None:
            item["encrypted_content"] = self.seal(text, item_id)
        return item

    def response(self, status: str, model: str, output: list[dict], usage: dict | None = None, *, incomplete: str | None = None, error: dict | None = None) -> dict:
        body = self.request
        fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": int(time.time()) if status == "completed" else None,
            "error": error,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls") if body.get("parallel_tool_calls") is not None else True,
            "previous_response_id": None,
            "reasoning": {"effort": self.chat.get("reasoning_effort") or "medium", "summary": self.summary},
            "store": False,
            "temperature": body.get("temperature"),
            "text": {"format": fmt or {"type": "text"}},
            "tool_choice": body.get("tool_choice") or "auto",
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p"),
            "truncation": "disabled",
            "usage": _usage(usage),
            "user": None,
            "metadata": body.get("metadata") or {},
            "background": False,
        }


def _usage(usage: dict | None) -> dict | None:
    if not usage:
        return None
    return {
        "input_tokens": usage.get("prompt_tokens", 0),
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.get("completion_tokens", 0),
        "output_tokens_details": {"reasoning_tokens": (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)},
        "total_tokens": usage.get("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)),
    }


def _ending(finish: str | None) -> tuple[str, str | None]:
    """chat ``finish_reason`` → Responses ``status`` and ``incomplete_details.reason``."""
    if finish == "length":
        return "incomplete", "max_output_tokens"
    if finish == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


def _reasoning_item(text: str, status: str = "completed", item_id: str | None = None) -> dict:
    return {"id": item_id or _id("rs"), "type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": text}], "encrypted_content": None, "status": status}


def _message_item(text: str, status: str = "completed", item_id: str | None = None) -> dict:
    return {"id": item_id or _id("msg"), "type": "message", "role": "assistant", "status": status, "content": [_output_text(text)]}


def _output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _call_item(call_id: str, name: str, arguments: str, status: str = "completed", item_id: str | None = None) -> dict:
    return {"id": item_id or _id("fc"), "type": "function_call", "call_id": call_id, "name": name, "arguments": arguments, "status": status}


def response_object(shape: _Shape, completion: dict) -> dict:
    """A chat.completion (already guarded) → a ``response`` object: reasoning, message, then function calls."""
    choice = completion["choices"][0]
    message = choice["message"]
    output = []
    if message.get("reasoning_content"):
        output.append(shape.reasoning_item(message["reasoning_content"]))
    if message.get("content"):
        output.append(_message_item(message["content"]))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        output.append(_call_item(call.get("id") or _id("call"), fn.get("name", ""), fn.get("arguments") or ""))
    status, reason = _ending(choice.get("finish_reason"))
    return shape.response(status, completion["model"], output, completion.get("usage"), incomplete=reason)


class _Events:
    """Chat SSE parts → Responses events, each with its ``sequence_number`` (SSE ``event:`` line = its type).

    Items get their ``output_index`` in the order they start (the SDK appends an item to its snapshot at
    ``response.output_item.added``). Reasoning and message text are one open item at a time; tool calls are keyed
    by their chat ``index``, so calls whose argument deltas interleave (parallel calls streamed unguarded) stay
    separate items, all closed when text resumes or the answer ends."""

    def __init__(self, shape: _Shape, model: str) -> None:
        self.shape, self.model = shape, model
        self.seq = 0
        self.items: list[dict] = []  # every item so far, in output order: {"kind", "item", "text", "done"}
        self.calls: dict[Any, dict] = {}  # open tool-call items by their chat index
        self.text: dict | None = None  # the open reasoning or message item
        self.finish: str | None = None
        self.usage: dict | None = None

    def event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

    def start(self) -> Iterator[bytes]:
        snapshot = self.shape.response("in_progress", self.model, [])
        yield self.event("response.created", response=snapshot)
        yield self.event("response.in_progress", response=snapshot)

    @property
    def output(self) -> list[dict]:
        return [entry["final"] for entry in self.items if entry["done"]]

    def _add(self, kind: str, item: dict) -> Iterator[bytes]:
        entry = {"kind": kind, "item": item, "text": "", "done": False, "index": len(self.items), "summary_sent": ""}
        self.items.append(entry)
        yield self.event("response.output_item.added", output_index=entry["index"], item=item)
        part = {"type": "reasoning_text", "text": ""} if kind == "reasoning" else _output_text("") if kind == "message" else None
        if part is not None:
            yield self.event("response.content_part.added", item_id=item["id"], output_index=entry["index"], content_index=0, part=part)
        if kind == "reasoning" and self.shape.summary:
            yield self.event("response.reasoning_summary_part.added", item_id=item["id"], output_index=entry["index"], summary_index=0,
                             part={"type": "summary_text", "text": ""})
        return entry

    def _done(self, entry: dict) -> Iterator[bytes]:
        kind, item, text, index = entry["kind"], entry["item"], entry["text"], entry["index"]
        if kind == "reasoning":
            yield self.event("response.reasoning_text.done", item_id=item["id"], output_index=index, content_index=0, text=text)
            yield self.event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0, part={"type": "reasoning_text", "text": text})
            if self.shape.summary:
                summary = summary_of(text, self.shape.summary)
                rest = summary[len(entry["summary_sent"]):]  # concise: the " …" after the cut
                if rest:
                    yield self.event("response.reasoning_summary_text.delta", item_id=item["id"], output_index=index, summary_index=0, delta=rest)
                yield self.event("response.reasoning_summary_text.done", item_id=item["id"], output_index=index, summary_index=0, text=summary)
                yield self.event("response.reasoning_summary_part.done", item_id=item["id"], output_index=index, summary_index=0, part={"type": "summary_text", "text": summary})
            final = self.shape.reasoning_item(text, item_id=item["id"])
        elif kind == "message":
            yield self.event("response.output_text.done", item_id=item["id"], output_index=index, content_index=0, text=text, logprobs=[])
            yield self.event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0, part=_output_text(text))
            final = _message_item(text, item_id=item["id"])
        else:
            yield self.event("response.function_call_arguments.done", item_id=item["id"], output_index=index, name=item["name"], arguments=text)
            final = _call_item(item["call_id"], item["name"], text, item_id=item["id"])
        entry.update(done=True, final=final)
        yield self.event("response.output_item.done", output_index=index, item=final)

    def close(self) -> Iterator[bytes]:
        """Finishes every open item, in output order."""
        open_items = sorted([*([self.text] if self.text else []), *self.calls.values()], key=lambda e: e["index"])
        self.text, self.calls = None, {}
        for entry in open_items:
            yield from self._done(entry)

    def _text(self, kind: str, delta: str) -> Iterator[bytes]:
        if self.text is None or self.text["kind"] != kind:
            yield from self.close()
            prefix = "rs" if kind == "reasoning" else "msg"
            item = {"id": _id(prefix), "type": "reasoning", "summary": [], "content": [], "status": "in_progress"} if kind == "reasoning" else \
                {"id": _id(prefix), "type": "message", "role": "assistant", "status": "in_progress", "content": []}
            self.text = yield from self._add(kind, item)
        entry = self.text
        entry["text"] += delta
        name = "response.reasoning_text.delta" if kind == "reasoning" else "response.output_text.delta"
        extra = {} if kind == "reasoning" else {"logprobs": []}
        yield self.event(name, item_id=entry["item"]["id"], output_index=entry["index"], content_index=0, delta=delta, **extra)
        if kind == "reasoning" and self.shape.summary:
            limit = CONCISE_CHARS if self.shape.summary == "concise" else len(entry["text"])
            piece = entry["text"][len(entry["summary_sent"]):limit]  # the summary is a prefix of the reasoning
            if piece:
                entry["summary_sent"] += piece
                yield self.event("response.reasoning_summary_text.delta", item_id=entry["item"]["id"], output_index=entry["index"], summary_index=0, delta=piece)

    def delta(self, delta: dict) -> Iterator[bytes]:
        if delta.get("reasoning_content"):
            yield from self._text("reasoning", delta["reasoning_content"])
        if delta.get("content"):
            yield from self._text("message", delta["content"])
        for call in delta.get("tool_calls") or []:
            fn = call.get("function") or {}
            key = call.get("index", 0)
            if self.text is not None:
                yield from self.close()
            entry = self.calls.get(key)
            if entry is None:
                item = _call_item(call.get("id") or _id("call"), fn.get("name") or "", "", status="in_progress")
                entry = self.calls[key] = yield from self._add("call", item)
            elif fn.get("name") and not entry["item"]["name"]:
                entry["item"]["name"] = fn["name"]
            if fn.get("arguments"):
                entry["text"] += fn["arguments"]
                yield self.event("response.function_call_arguments.delta", item_id=entry["item"]["id"], output_index=entry["index"], delta=fn["arguments"])

    def end(self) -> Iterator[bytes]:
        yield from self.close()
        status, reason = _ending(self.finish)
        final = self.shape.response(status, self.model, self.output, self.usage, incomplete=reason)
        yield self.event("response.completed" if status == "completed" else "response.incomplete", response=final)

    def fail(self, error: dict) -> Iterator[bytes]:
        """A failure after the first byte: OpenAI's ``error`` event, then ``response.failed`` with what was done."""
        yield from self.close()
        yield self.event("error", code=error.get("code"), message=error.get("message", "The response failed."), param=error.get("param"))
        code = "rate_limit_exceeded" if error.get("type") == "rate_limit_error" else "server_error"
        failed = self.shape.response("failed", self.model, self.output, self.usage, error={"code": code, "message": error.get("message", "")})
        yield self.event("response.failed", response=failed)


def _chat_events(parts: Iterator[bytes]) -> Iterator[dict]:
    """The chat stream's parts as the dicts they encode (``wire.SSEPart.payload``: nothing is parsed back). Read to
    its end, past ``[DONE]``: the chat pipeline writes the request's log record (usage, guardrail actions, errors)
    after its last part."""
    for part in parts:
        payload = getattr(part, "payload", None)
        if isinstance(payload, dict):
            yield payload


def _stream(shape: _Shape, chat_parts: Iterator[bytes], model: str) -> Iterator[bytes]:
    events = _Events(shape, model)
    yield from events.start()
    error = None
    try:
        for payload in _chat_events(chat_parts):  # drained even after an error: the chat stream logs at its end
            if error is not None:
                continue
            if "error" in payload:
                error = payload["error"]
                continue
            if payload.get("usage"):
                events.usage = payload["usage"]
            events.model = payload.get("model") or events.model  # a handoff mid-stream answers with its target
            for choice in payload.get("choices") or []:
                yield from events.delta(choice.get("delta") or {})
                events.finish = choice.get("finish_reason") or events.finish
        yield from events.fail(error) if error is not None else events.end()
    finally:
        close = getattr(chat_parts, "close", None)
        if close:
            close()


def handle(chat: Chat, settings: Settings, sealer: "sealed.Sealer | None", headers: Mapping[str, str], raw: bytes, deadline: float, record: dict) -> Response:
    """``POST /v1/responses``: the chat pipeline (``chat``) with the Responses wire format on both sides."""
    body = parse_json(raw, settings)
    encrypted, summary = options(body, sealer is not None)
    route = str(body.get("model"))
    chat_request = chat_body(body, _opener(sealer, route))
    try:
        answer = chat(headers, chat_request, deadline, record)
    except ProxyError as err:
        raise _renamed(err) from None
    seal = None
    if encrypted:
        def seal(text: str, item_id: str) -> str:
            try:
                return sealed.seal_reasoning(sealer, text, route, item_id)
            except sealed.SealUnavailable:
                return None  # the answer stands; the client gets no encrypted_content for this item
    shape = _Shape(body, chat_request, seal, summary)
    if not answer.streaming:
        return json_response(answer.status, response_object(shape, answer.payload), answer.headers)
    model = record.get("model") or record.get("route") or str(body.get("model"))
    return Response(200, _stream(shape, iter(answer.body), model), dict(answer.headers))
