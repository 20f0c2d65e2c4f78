"""Fuzz /v1/responses: random and malformed Responses bodies never raise or answer 500 (an unexpected exception in
the translation would be the core's generic 500); every refusal is a 4xx with OpenAI's error body, and a body
that is answered is a `response` object (or event stream) that validates strictly against openai-python's
`Response` / `ResponseStreamEvent` models."""

from __future__ import annotations

import json
import random

from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings
from tests.proxy.test_fuzz import _junk

ROUTES = {"gpt-oss-20b": {"backend": "sagemaker", "endpoint_name": "ep"}}
FIELDS = ["input", "instructions", "tools", "tool_choice", "reasoning", "text", "max_output_tokens", "temperature", "top_p",
          "metadata", "store", "stream", "parallel_tool_calls", "include", "previous_response_id", "truncation"]
ITEMS = [{"role": "user", "content": "hi"}, {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
         {"type": "function_call_output", "call_id": "c", "output": "ok"}, {"type": "reasoning", "summary": []}]


class Echo:
    def complete(self, route, body, timeout):
        return {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    def stream(self, route, body, timeout):
        yield {"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}


def _case(rng: random.Random) -> dict:
    body = {"model": "gpt-oss-20b", "input": rng.choice(["hi", [dict(rng.choice(ITEMS)) for _ in range(rng.randint(1, 4))]])}
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(FIELDS)
        body[key] = _junk(rng)
    if rng.random() < 0.3 and isinstance(body.get("input"), list) and body["input"] and isinstance(body["input"][0], dict):
        body["input"][0] = {**body["input"][0], rng.choice(["type", "role", "content", "call_id", "output"]): _junk(rng)}
    return body


def test_random_bodies_are_answered_without_500():
    service = ProxyService(Settings.from_env({"GPTOSS_ROUTES": json.dumps(ROUTES)}), {"sagemaker": Echo()})
    rng = random.Random(17)
    statuses = {}
    model, events = TypeAdapter(Response), TypeAdapter(ResponseStreamEvent)
    for _ in range(600):
        body = _case(rng)
        response = service.handle("POST", "/v1/responses", {}, json.dumps(body).encode())
        payload = b"".join(response.body) if response.streaming else response.body
        statuses[response.status] = statuses.get(response.status, 0) + 1
        assert response.status in (200, 400), (body, payload)
        if response.status == 200 and response.streaming:
            for part in response.body if isinstance(response.body, list) else payload.split(b"\n\n"):
                if part.strip():
                    events.validate_python(json.loads(part.split(b"data: ", 1)[1]))
        elif response.status == 200:
            model.validate_python(json.loads(payload))
        if response.status == 400:
            error = json.loads(payload)["error"]
            assert error["type"] == "invalid_request_error" and error["message"], body
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 200  # both outcomes were exercised
