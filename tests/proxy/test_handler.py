"""The buffered Lambda handler with real API Gateway REST, HTTP API and Function URL event shapes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest


@dataclass
class Context:
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def handler(proxy_env):
    import handler as module

    module.SERVICE = None  # build from the (emulator) environment
    return module


def rest_event(method, path, body=None, b64=False):
    raw = json.dumps(body) if body is not None else None
    return {
        "resource": path, "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
        "requestContext": {"identity": {"userArn": "arn:aws:iam::111122223333:role/app"}, "stage": "prod"},
        "body": base64.b64encode(raw.encode()).decode() if b64 and raw else raw, "isBase64Encoded": b64,
    }


def url_event(method, path, body=None):
    return {
        "version": "2.0", "rawPath": path, "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}, "authorizer": {"iam": {"userArn": "arn:aws:iam::111122223333:role/app"}}},
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }


def test_rest_api_event_non_stream(handler):
    out = handler.lambda_handler(rest_event("POST", "/v1/chat/completions", {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "hi"}]}, b64=True), Context())
    assert out["statusCode"] == 200 and out["headers"]["Content-Type"] == "application/json"
    assert json.loads(out["body"])["choices"][0]["message"]["content"] == "Echo: hi"


def test_function_url_event_stream_returns_valid_sse_buffered(handler):
    out = handler.lambda_handler(url_event("POST", "/v1/chat/completions", {"model": "gpt-oss-120b", "stream": True, "messages": [{"role": "user", "content": "hi"}]}), Context())
    assert out["statusCode"] == 200 and out["headers"]["Content-Type"] == "text/event-stream"
    events = [line[6:] for line in out["body"].split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1] if json.loads(e)["choices"]) == "Echo: hi"


def test_errors_keep_the_openai_shape(handler):
    out = handler.lambda_handler(rest_event("GET", "/v1/nothing"), Context())
    assert out["statusCode"] == 404 and json.loads(out["body"])["error"]["code"] == "unknown_url"
    health = handler.lambda_handler(url_event("GET", "/health"), Context())
    # seconds_left: the context's 60 s remaining, less the handler's 1 s
    assert json.loads(health["body"]) == {"status": "ok", "routes": ["gpt-oss-120b", "gpt-oss-20b"], "guardrail": "on", "seconds_left": 59.0}


def test_escalation_follows_the_callers_iam_identity_from_the_request_context(handler, proxy_env, monkeypatch):
    """The caller's identity is API Gateway's ``requestContext.identity.userArn`` (under the Web Adapter the
    same context arrives in ``x-amzn-request-context``, which the adapter sets with ``HeaderMap::insert``,
    replacing any client-sent value: awslabs/aws-lambda-web-adapter ``src/lib.rs`` ``fetch_response``)."""
    monkeypatch.setenv("GPTOSS_ESCALATE_PRINCIPALS", "arn:aws:iam::111122223333:role/ops")
    handler.SERVICE = None
    body = {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "hi"}], "escalate": True}
    refused = handler.lambda_handler(rest_event("POST", "/v1/chat/completions", body), Context())
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["error"]["code"] == "escalate_not_allowed"
    event = rest_event("POST", "/v1/chat/completions", body)
    event["requestContext"]["identity"]["userArn"] = "arn:aws:sts::111122223333:assumed-role/ops/alice"
    allowed = handler.lambda_handler(event, Context())
    assert allowed["statusCode"] == 200 and json.loads(allowed["body"])["model"] == "gpt-oss-120b"
    handler.SERVICE = None
