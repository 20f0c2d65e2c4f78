"""One local HTTP server speaking the SageMaker Runtime and Bedrock Runtime wire protocols (rest-json, with
``application/vnd.amazon.eventstream`` for the streaming operations), so unmodified boto3 clients can be
pointed at it with ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` / ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.

The fake models behave like the real ones in shape: the JumpStart container answers OpenAI chat completions
with reasoning in ``reasoning_content``; Bedrock gpt-oss answers with ``<reasoning>…</reasoning>`` inline.
Faults are injected per request by markers in the last user message:

``[[throttle]]`` ``[[nocapacity]]`` ``[[error]]`` (add ``@sagemaker`` / ``@bedrock`` to hit one backend only)
``[[slow]]`` (1 s before answering, or 10 ms between stream parts and 1 s before the last; ``[[slow:S]]``: S seconds
instead of 1, so a test waits no longer than what it checks needs)
``[[stall]]`` (a stream goes silent for 5 s after half its parts)
``[[stream-throttle]]`` (Bedrock: the stream's first event is a ``throttlingException``)
``[[malformed]]`` (a broken stream chunk) ``[[midstream-error]]`` ``[[long:N]]`` (N characters of content)
``[[forbidden]]`` (output the guardrail blocks) ``[[email]]`` (output containing an e-mail the guardrail masks)
``[[reasoning-email]]`` (reasoning containing an e-mail) ``[[entity-at:K]]`` (with ``[[long:N]]``: an e-mail address starting at character K of the content)
``[[rate:T]]`` (stream at T tokens per second, 4 characters a token, one token per delta)
``[[beyond]]`` (the small model calls the handoff tool, ``handoff_to_larger_model``, when it is offered; with
``[[handoff-email]]`` / ``[[handoff-forbidden]]`` its reason holds an e-mail / a blocked word; ``[[beyond-late]]``:
it writes its answer first, then calls the tool)
``max_tokens`` / ``max_completion_tokens`` cut the answer (4 characters a token, reasoning first) with
``finish_reason: "length"``, on both backends.
``[[think:N]]`` (reasoning of N tokens, 4 characters each; the proxy's reasoning-budget notes — a developer message
starting ``[reasoning budget]`` — make it answer after one short sentence, or after "at least K more tokens")
A SageMaker body with ``prompt`` is an OpenAI *completions* request on a raw harmony prompt (what the LMI container
accepts in vLLM async mode): after an opened analysis message the model reasons ``[[think:N]]`` tokens (40 without
the marker; 16 more after a trailing "Wait"), stopping at ``max_tokens`` (``finish_reason: length``); after an
opened final message it answers ``Echo: <prompt>``.
``[[tool-email]]`` ``[[tool-forbidden]]`` ``[[tool-notjson]]`` (tool-call arguments with an e-mail, a blocked word,
or not JSON); streamed tool-call arguments come in pieces, as vLLM sends them.
Guardrail (ApplyGuardrail, per text block, like Bedrock): a block containing ``[[block-input]]`` (INPUT) or the
word ``forbidden`` (OUTPUT) blocks the call; ``[[guardrail-error]]`` makes it fail; e-mail addresses, card
numbers and US SSNs are masked as ``{EMAIL}``, ``{CREDIT_DEBIT_CARD_NUMBER}``, ``{US_SOCIAL_SECURITY_NUMBER}``;
``usage`` counts text units per block (ceil(chars/1000)).
``GET /_stats`` returns counters, guardrail calls (source, blocks, chars, units, action), the last bodies the
model backends received (``bodies``; ``model_requests`` with the endpoint / model each went to), and stream
timelines; ``POST /_reset`` clears them.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from emulators.eventstream import event, exception
from emulators.schema import instance

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"\b\d{4}(?:[ -]?\d{4}){3}\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
ENTITIES = (("EMAIL", EMAIL), ("CREDIT_DEBIT_CARD_NUMBER", CARD), ("US_SOCIAL_SECURITY_NUMBER", SSN))
#: the proxy's handoff tool (gptoss_proxy.core.handoff.HANDOFF_TOOL; a test checks they agree)
HANDOFF_TOOL = "handoff_to_larger_model"
#: how the proxy's reasoning-budget notes start (gptoss_proxy.core.budget.NOTE_PREFIX)
BUDGET_NOTE = "[reasoning budget]"
BLOCKED_INPUT = "Your request was blocked by this platform's content policy."
BLOCKED_OUTPUT = "The model's answer was withheld by this platform's content policy."


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.calls: dict[str, int] = {}
        self.guardrail: list[dict] = []
        self.timelines: list[dict] = []
        self.bodies: list[dict] = []  # what the model backends received (the last 20)
        self.model_requests: list[dict] = []  # the same, with the endpoint / model it was sent to (the last 50)

    def count(self, key: str) -> None:
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def snapshot(self) -> dict:
        with self.lock:
            return {"calls": dict(self.calls), "guardrail": list(self.guardrail), "timelines": list(self.timelines), "bodies": list(self.bodies),
                    "model_requests": list(self.model_requests)}

    def received(self, body: dict) -> None:
        with self.lock:
            self.bodies = [*self.bodies[-19:], body]

    def request(self, target: str, body: dict) -> None:
        with self.lock:
            self.model_requests = [*self.model_requests[-49:], {"target": target, "body": body}]


def _slow_seconds(prompt: str, service: str | None = None) -> float | None:
    """How long a ``[[slow]]`` (1 s) or ``[[slow:S]]`` (S s) model pauses; None without the marker. With ``service``,
    ``[[slow@service]]`` counts too (the non-streaming faults); streams honour the plain marker only."""
    for m in re.finditer(r"\[\[slow(?::(\d+(?:\.\d+)?))?(?:@(\w+))?\]\]", prompt):
        if m.group(2) is None or (service is not None and m.group(2) == service):
            return float(m.group(1)) if m.group(1) else 1.0
    return None


def _last_user(body: dict) -> str:
    for m in reversed(body.get("messages") or []):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else "".join(p.get("text", "") for p in c or [] if isinstance(p, dict))
    return ""


def fake_answer(body: dict) -> dict:
    """What the fake model says: reasoning sized by effort, an echo, or a tool call."""
    prompt = _last_user(body)
    effort = body.get("reasoning_effort", "medium")
    sentences = {"low": 1, "medium": 2, "high": 3}.get(effort, 2)
    reasoning = " ".join(["The user asked something; I consider it carefully."] * sentences) + f" effort={effort}."
    if "[[reasoning-email]]" in prompt:
        reasoning += " I could write to jane.doe@example.com."
    think = re.search(r"\[\[think:(\d+)\]\]", prompt)
    if think:  # reasoning of N tokens (4 characters each), as long as the model needs
        reasoning = _reasoning_of(int(think.group(1)))
    last = (body.get("messages") or [{}])[-1]
    if last.get("role") == "developer" and str(last.get("content", "")).startswith(BUDGET_NOTE):
        more = re.search(r"at least (\d+) more tokens", last["content"])
        reasoning = _reasoning_of(int(more.group(1))) if more else "Answering now."
    long_match = re.search(r"\[\[long:(\d+)\]\]", prompt)
    clean = re.sub(r"\[\[[^\]]*\]\]", "", prompt).strip()
    if long_match:
        n = int(long_match.group(1))
        content = ("lorem ipsum dolor sit amet " * (n // 27 + 1))[:n]
        at = re.search(r"\[\[entity-at:(\d+)\]\]", prompt)
        if at:
            k = int(at.group(1))
            content = (content[:k] + " jane.doe@example.com " + content[k:])[:n]
    else:
        content = f"Echo: {clean}"
    if "[[forbidden]]" in prompt:
        content = "Here is the forbidden answer."
    if "[[email]]" in prompt:
        content = "Write to jane.doe@example.com for details."
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        content = json.dumps({"echo": clean})
    offered = [t for t in body.get("tools") or [] if t["function"]["name"] == HANDOFF_TOOL]
    tools = [t for t in body.get("tools") or [] if t["function"]["name"] != HANDOFF_TOOL]
    if offered and ("[[beyond]]" in prompt or "[[beyond-late]]" in prompt):
        reason = "This needs deeper multi-step reasoning than I can give."
        if "[[handoff-email]]" in prompt:
            reason += " Ask jane.doe@example.com."
        if "[[handoff-forbidden]]" in prompt:
            reason += " It is a forbidden topic."
        call = {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function", "function": {"name": HANDOFF_TOOL, "arguments": json.dumps({"reason": reason})}}
        late = "[[beyond-late]]" in prompt
        return {"reasoning": reasoning, "content": content if late else "", "tool_calls": [call], "finish_reason": "tool_calls"}
    answered_tool = any(m.get("role") == "tool" for m in body.get("messages") or [])
    choice = body.get("tool_choice")
    if tools and choice != "none" and not answered_tool:
        named = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        fn = next((t["function"] for t in tools if t["function"]["name"] == named), tools[0]["function"])
        value = "Paris"
        if "[[tool-email]]" in prompt:
            value = "Paris, ask jane.doe@example.com"
        if "[[tool-forbidden]]" in prompt:
            value = "the forbidden city"
        # arguments valid against the tool's schema (strings carry ``value``)
        args = json.dumps(_with_text(instance(fn.get("parameters") or {"type": "object"}), value))
        if "[[tool-notjson]]" in prompt:
            args = "city=jane.doe@example.com"
        call = {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function", "function": {"name": fn["name"], "arguments": args}}
        return {"reasoning": reasoning, "content": "", "tool_calls": [call], "finish_reason": "tool_calls"}
    if answered_tool:
        tool_text = next(m["content"] for m in reversed(body["messages"]) if m.get("role") == "tool")
        content = f"The tool said: {tool_text}"
    if fmt.get("type") == "json_schema":  # guided decoding: the answer is a JSON value valid against the schema
        content = json.dumps(instance((fmt.get("json_schema") or {}).get("schema") or {"type": "object"}))
    return {"reasoning": reasoning, "content": content, "tool_calls": None, "finish_reason": "stop"}


def limited(answer: dict, body: dict) -> dict:
    """The answer cut at the request's ``max_completion_tokens`` / ``max_tokens`` (4 characters a token, reasoning
    first, as the model writes it), with ``finish_reason: "length"`` — what vLLM and Bedrock do when the
    limit is reached; a cut answer has no tool call."""
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if not isinstance(limit, int) or math.ceil((len(answer["reasoning"]) + len(answer["content"])) / 4) <= limit:
        return answer
    room = limit * 4
    reasoning = answer["reasoning"][:room]
    content = answer["content"][: max(0, room - len(reasoning))]
    return {"reasoning": reasoning, "content": content, "tool_calls": None, "finish_reason": "length"}


def _reasoning_of(n: int) -> str:
    """Reasoning of exactly ``n`` tokens of 4 characters."""
    return ("Step: check it. " * (n // 4 + 1))[: n * 4]


WAIT_MORE_TOKENS = 16


def fake_completion(body: dict) -> tuple[str, str, dict]:
    """What the fake model writes after a raw harmony prompt: (text, finish_reason, usage)."""
    prompt = body["prompt"]
    users = re.findall(r"<\|start\|>user<\|message\|>(.*?)<\|end\|>", prompt, re.S)
    user = users[-1] if users else ""
    if "<|start|>" not in prompt:  # a plain-text prompt (legacy /v1/completions): the model continues it
        text = "Echo: " + re.sub(r"\[\[[^\]]*\]\]", "", prompt).strip()
        if "[[forbidden]]" in prompt:
            text = "Here is the forbidden answer."
        if "[[email]]" in prompt:
            text = "Write to jane.doe@example.com for details."
        long_match = re.search(r"\[\[long:(\d+)\]\]", prompt)
        if long_match:
            text = ("lorem ipsum dolor sit amet " * (int(long_match.group(1)) // 27 + 1))[: int(long_match.group(1))]
    elif prompt.endswith("<|channel|>final<|message|>"):
        text = "Echo: " + re.sub(r"\[\[[^\]]*\]\]", "", user).strip()
    else:
        think = re.search(r"\[\[think:(\d+)\]\]", user)
        want = WAIT_MORE_TOKENS if prompt.endswith("Wait") else int(think.group(1)) if think else 40
        text = _reasoning_of(want)
    limit = int(body.get("max_tokens") or 10**9)
    finish = "stop"
    if math.ceil(len(text) / 4) > limit:
        text, finish = text[: limit * 4], "length"
    completion = math.ceil(len(text) / 4)
    return text, finish, {"prompt_tokens": len(prompt) // 4, "completion_tokens": completion, "total_tokens": len(prompt) // 4 + completion}


def _with_text(value, text: str):
    """``value`` with every string the schema generator filled in replaced by ``text``."""
    if isinstance(value, dict):
        return {k: _with_text(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_text(v, text) for v in value]
    return text if value == "Paris" else value


def _logprobs(content: str, top: int) -> dict:
    """vLLM's chat logprobs shape (``ChatCompletionLogProbs``): one entry per (word-sized) token of the content."""
    tokens = re.findall(r"\S+\s*", content) or [content]
    return {"content": [{"token": t, "logprob": -0.01 * (i + 1), "bytes": list(t.encode()),
                         "top_logprobs": [{"token": t, "logprob": -0.01 * (i + 1), "bytes": list(t.encode())}][:top]}
                        for i, t in enumerate(tokens)]}


def _usage(body: dict, answer: dict) -> dict:
    prompt = max(1, len(json.dumps(body.get("messages"))) // 4)
    completion = max(1, (len(answer["content"]) + len(answer["reasoning"])) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "completion_tokens_details": {"reasoning_tokens": max(1, len(answer["reasoning"]) // 4)}}


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # socketserver's default backlog of 5 resets connections under concurrent streams

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


#: how often a server started by ``serve_in_thread`` checks for ``shutdown()``: socketserver's default of 0.5 s made
#: every stop of a test server (the emulators, the proxy's HTTP app) wait up to half a second
POLL_INTERVAL = 0.05


def serve_in_thread(server) -> threading.Thread:
    """Starts ``server.serve_forever`` in a daemon thread, polling for ``shutdown()`` every ``POLL_INTERVAL`` s."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)
    thread.start()
    return thread


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.stats = Stats()
        self.server = _Server((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Emulator":
        self.thread = serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            # -- plumbing --
            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, code: str, message: str) -> None:
                self._send(status, json.dumps({"message": message}).encode(), {"Content-Type": "application/json", "x-amzn-ErrorType": code})

            def _stream(self, parts, slow: float | None, label: str, interval: float = 0.0, stall: bool = False) -> None:
                """Sends event-stream parts; ``slow`` (seconds): 10 ms between parts and ``slow`` before the last one;
                ``interval``: seconds between parts (a model's token rate); ``stall``: 5 s of silence after the
                first half (a model that hangs mid-answer)."""
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                timeline = {"label": label, "sent": []}
                for i, part in enumerate(parts):
                    if slow is not None:
                        time.sleep(slow if i == len(parts) - 1 else 0.01)
                    elif interval and i:
                        time.sleep(interval)
                    if stall and i == len(parts) // 2:
                        time.sleep(5.0)
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.flush()
                    timeline["sent"].append(time.time())
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                timeline["finished"] = time.time()
                with emulator.stats.lock:
                    emulator.stats.timelines.append(timeline)

            def do_GET(self) -> None:
                if self.path == "/_stats":
                    self._send(200, json.dumps(emulator.stats.snapshot()).encode(), {"Content-Type": "application/json"})
                else:
                    self._error(404, "UnknownOperationException", self.path)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = unquote(self.path.split("?")[0])
                if path == "/_reset":
                    emulator.stats.reset()
                    return self._send(200, b"{}", {"Content-Type": "application/json"})
                m = re.fullmatch(r"/endpoints/([^/]+)/(invocations|invocations-response-stream)", path)
                if m:
                    return self._sagemaker(m.group(1), m.group(2).endswith("stream"), raw)
                m = re.fullmatch(r"/model/(.+)/(invoke|invoke-with-response-stream)", path)
                if m:
                    return self._bedrock(m.group(1), m.group(2).endswith("stream"), raw)
                m = re.fullmatch(r"/guardrail/([^/]+)/version/([^/]+)/apply", path)
                if m:
                    return self._guardrail(m.group(1), m.group(2), raw)
                if path == "/v1/chat/completions":  # plain OpenAI API (what the JumpStart container serves), for benchmarks
                    return self._openai(raw)
                self._error(404, "UnknownOperationException", path)

            # -- common faults --
            def _fault(self, prompt: str, service: str) -> bool:
                sm = service == "sagemaker"

                def has(fault: str) -> bool:  # [[fault]] hits every backend, [[fault@sagemaker]] only one
                    return f"[[{fault}]]" in prompt or f"[[{fault}@{service}]]" in prompt

                if has("throttle"):
                    self._error(400 if sm else 429, "ThrottlingException", "Rate exceeded")
                    return True
                if has("nocapacity"):
                    if sm:
                        self._error(429, "ModelNotReadyException", "Inference component has no capacity to process this request")
                    else:
                        self._error(429, "ModelNotReadyException", "The model is not ready")
                    return True
                if has("error"):
                    self._error(424, "ModelError" if sm else "ModelErrorException", "The model failed")
                    return True
                pause = _slow_seconds(prompt, service)
                if pause is not None and not self._streaming:
                    time.sleep(pause)
                return False

            # -- plain OpenAI chat completions --
            def _openai(self, raw: bytes) -> None:
                emulator.stats.count("openai")
                body = json.loads(raw)
                answer = limited(fake_answer(body), body)
                if not body.get("stream"):
                    message = {"role": "assistant", "content": answer["content"] or None, "reasoning_content": answer["reasoning"]}
                    out = {"id": "chatcmpl-oa", "object": "chat.completion", "created": int(time.time()), "model": body.get("model", "gpt-oss"),
                           "choices": [{"index": 0, "message": message, "finish_reason": answer["finish_reason"]}], "usage": _usage(body, answer)}
                    return self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})
                sse = b""
                for delta in _deltas(answer, reasoning_field="reasoning_content"):
                    sse += b"data: " + json.dumps({"id": "chatcmpl-oa", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model", "gpt-oss"), "choices": [{"index": 0, **delta}]}).encode() + b"\n\n"
                sse += b"data: [DONE]\n\n"
                self._send(200, sse, {"Content-Type": "text/event-stream"})

            # -- SageMaker Runtime --
            def _sagemaker(self, endpoint: str, stream: bool, raw: bytes) -> None:
                self._streaming = stream
                emulator.stats.count(f"sagemaker:{endpoint}:{'stream' if stream else 'invoke'}")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._error(424, "ModelError", "Received client error (400) from primary: invalid JSON")
                emulator.stats.received(body)
                emulator.stats.request(f"sagemaker:{endpoint}", body)
                prompt = _last_user(body) or (body["prompt"] if isinstance(body.get("prompt"), str) and "<|start|>" not in body["prompt"] else "")
                if self._fault(prompt, "sagemaker"):
                    return
                if body.get("stream", False) != stream:
                    return self._error(424, "ModelError", "stream flag does not match the operation")
                if "prompt" in body:
                    return self._completion(body, stream, endpoint)
                answer = limited(fake_answer(body), body)
                slow = _slow_seconds(prompt)
                if not stream:
                    message = {"role": "assistant", "content": answer["content"] or None, "reasoning_content": answer["reasoning"]}
                    if answer["tool_calls"]:
                        message["tool_calls"] = answer["tool_calls"]
                    logprobs = _logprobs(answer["content"], body.get("top_logprobs") or 0) if body.get("logprobs") else None
                    choices = [{"index": i, "message": message, "finish_reason": answer["finish_reason"], "logprobs": logprobs} for i in range(body.get("n") or 1)]
                    out = {"id": "chatcmpl-sm", "object": "chat.completion", "created": int(time.time()), "model": "gpt-oss",
                           "choices": choices, "usage": _usage(body, answer)}
                    return self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json", "x-Amzn-Invoked-Production-Variant": "AllTraffic"})
                rate = re.search(r"\[\[rate:(\d+)\]\]", prompt)
                if rate:  # one token (~4 characters) per event, at the model's rate
                    events = [b"data: " + json.dumps({"id": "chatcmpl-sm", "object": "chat.completion.chunk", "choices": [{"index": 0, **d}]}).encode() + b"\n\n"
                              for d in _deltas(answer, reasoning_field="reasoning_content", size=4)]
                    events.append(b"data: [DONE]\n\n")
                    return self._stream([event("PayloadPart", e) for e in events], None, f"sagemaker:{endpoint}", interval=1 / int(rate.group(1)))
                sse = b""
                for delta in _deltas(answer, reasoning_field="reasoning_content"):
                    sse += b"data: " + json.dumps({"id": "chatcmpl-sm", "object": "chat.completion.chunk", "choices": [{"index": 0, **delta}]}).encode() + b"\n\n"
                if "[[malformed]]" in prompt:
                    sse += b"data: {not json\n\n"
                sse += b"data: " + json.dumps({"id": "chatcmpl-sm", "object": "chat.completion.chunk", "choices": [], "usage": _usage(body, answer)}).encode() + b"\n\n"
                sse += b"data: [DONE]\n\n"
                size = 512 if len(sse) > 20000 else 37  # cut SSE lines across parts
                parts = [event("PayloadPart", sse[i:i + size]) for i in range(0, len(sse), size)]
                if "[[midstream-error]]" in prompt:
                    parts = parts[: len(parts) // 2] + [exception("ModelStreamError", json.dumps({"Message": "model crashed", "ErrorCode": "500"}).encode())]
                self._stream(parts, slow, f"sagemaker:{endpoint}", stall="[[stall]]" in prompt)

            def _completion(self, body: dict, stream: bool, endpoint: str) -> None:
                text, finish, usage = fake_completion(body)
                if not stream:
                    out = {"id": "cmpl-sm", "object": "text_completion", "created": int(time.time()), "model": "gpt-oss",
                           "choices": [{"index": 0, "text": text, "finish_reason": finish}], "usage": usage}
                    return self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})
                sse = b""
                pieces = [text[i:i + 12] for i in range(0, len(text), 12)] or [""]
                for i, piece in enumerate(pieces):
                    choice = {"index": 0, "text": piece, "finish_reason": finish if i == len(pieces) - 1 else None}
                    sse += b"data: " + json.dumps({"id": "cmpl-sm", "object": "text_completion", "choices": [choice]}).encode() + b"\n\n"
                sse += b"data: " + json.dumps({"id": "cmpl-sm", "object": "text_completion", "choices": [], "usage": usage}).encode() + b"\n\n"
                sse += b"data: [DONE]\n\n"
                self._stream([event("PayloadPart", sse[i:i + 37]) for i in range(0, len(sse), 37)], None, f"sagemaker:{endpoint}")

            # -- Bedrock Runtime --
            def _bedrock(self, model_id: str, stream: bool, raw: bytes) -> None:
                self._streaming = stream
                emulator.stats.count(f"bedrock:{model_id}:{'stream' if stream else 'invoke'}")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._error(400, "ValidationException", "Malformed input request")
                emulator.stats.request(f"bedrock:{model_id}", body)
                if body.get("stream", False) != stream:
                    return self._error(400, "ValidationException", "stream must be false for InvokeModel and true for InvokeModelWithResponseStream")
                if "model" in body and body["model"] != model_id:
                    return self._error(400, "ValidationException", f"model {body['model']} does not match {model_id}")
                emulator.stats.received(body)
                prompt = _last_user(body)
                if self._fault(prompt, "bedrock"):
                    return
                answer = limited(fake_answer(body), body)
                slow = _slow_seconds(prompt)
                if not stream:
                    text = f"<reasoning>{answer['reasoning']}</reasoning>{answer['content']}"
                    message = {"role": "assistant", "content": text}
                    if answer["tool_calls"]:
                        message["tool_calls"] = answer["tool_calls"]
                    out = {"id": "chatcmpl-br", "object": "chat.completion", "created": int(time.time()), "model": model_id,
                           "choices": [{"index": 0, "message": message, "finish_reason": answer["finish_reason"]}], "usage": _usage(body, answer)}
                    return self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})
                chunks = [
                    {"id": "chatcmpl-br", "object": "chat.completion.chunk", "choices": [{"index": 0, **delta}]}
                    for delta in _deltas({**answer, "content": f"<reasoning>{answer['reasoning']}</reasoning>{answer['content']}", "reasoning": ""}, reasoning_field=None, size=7)
                ]
                chunks.append({"id": "chatcmpl-br", "object": "chat.completion.chunk", "choices": [], "usage": _usage(body, answer)})
                parts = [event("chunk", json.dumps({"bytes": base64.b64encode(json.dumps(c).encode()).decode()}).encode(), "application/json") for c in chunks]
                if "[[malformed]]" in prompt:
                    parts.insert(len(parts) // 2, event("chunk", json.dumps({"bytes": base64.b64encode(b"{broken").decode()}).encode(), "application/json"))
                if "[[midstream-error]]" in prompt:
                    parts = parts[: len(parts) // 2] + [exception("modelStreamErrorException", json.dumps({"message": "model crashed"}).encode())]
                if "[[stream-throttle]]" in prompt:  # refused inside the stream, as its first event
                    parts = [exception("throttlingException", json.dumps({"message": "Too many requests, please wait before trying again."}).encode())]
                self._stream(parts, slow, f"bedrock:{model_id}", stall="[[stall]]" in prompt)

            def _guardrail(self, guardrail_id: str, version: str, raw: bytes) -> None:
                body = json.loads(raw)
                source = body.get("source")
                texts = [c["text"]["text"] for c in body.get("content", [])]
                units = sum(math.ceil(len(t) / 1000) for t in texts)  # a text unit: up to 1,000 characters, per block
                call = {"source": source, "blocks": len(texts), "chars": sum(map(len, texts)), "units": units, "version": version}
                with emulator.stats.lock:
                    emulator.stats.guardrail.append(call)
                if any("[[guardrail-error]]" in t for t in texts):
                    return self._error(500, "InternalServerException", "guardrail failed")
                usage = {"topicPolicyUnits": 0, "contentPolicyUnits": units, "wordPolicyUnits": units, "sensitiveInformationPolicyUnits": units,
                         "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 0}
                word = "[[block-input]]" if source == "INPUT" else "forbidden"
                masked = [t for t in texts]
                found = []
                for name, pattern in ENTITIES:
                    for i, t in enumerate(masked):
                        found += [{"type": name, "match": m, "action": "ANONYMIZED"} for m in pattern.findall(t)]
                        masked[i] = pattern.sub("{" + name + "}", t)
                if any(word in t for t in texts):
                    message = BLOCKED_INPUT if source == "INPUT" else BLOCKED_OUTPUT
                    out = {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": message}], "usage": usage,
                           "assessments": [{"wordPolicy": {"customWords": [{"match": word, "action": "BLOCKED"}]}}]}
                elif found:
                    out = {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": t} for t in masked], "usage": usage,
                           "assessments": [{"sensitiveInformationPolicy": {"piiEntities": found}}]}
                else:
                    out = {"action": "NONE", "outputs": [], "usage": usage, "assessments": [{}]}
                call["action"] = "blocked" if any(word in t for t in texts) else ("masked" if found else "none")
                self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})

        return Handler


def _deltas(answer: dict, reasoning_field: str | None, size: int = 12):
    """The answer as stream deltas: role, reasoning pieces, content pieces (or a tool call), finish."""
    yield {"delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    if reasoning_field and answer["reasoning"]:
        for i in range(0, len(answer["reasoning"]), size):
            yield {"delta": {reasoning_field: answer["reasoning"][i:i + size]}, "finish_reason": None}
    for i in range(0, len(answer["content"]), size):
        yield {"delta": {"content": answer["content"][i:i + size]}, "finish_reason": None}
    for index, call in enumerate(answer["tool_calls"] or []):  # name first, then the arguments in pieces (like vLLM)
        args = call["function"]["arguments"]
        yield {"delta": {"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}]}, "finish_reason": None}
        for i in range(0, len(args), 5):
            yield {"delta": {"tool_calls": [{"index": index, "function": {"arguments": args[i:i + 5]}}]}, "finish_reason": None}
    yield {"delta": {}, "finish_reason": answer["finish_reason"]}
