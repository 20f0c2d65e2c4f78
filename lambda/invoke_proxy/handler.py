"""Buffered Lambda handler for API Gateway REST (v1), HTTP API (v2) and Function URL events.

Streams are returned whole as valid SSE (``text/event-stream``). For real streaming the same app runs under
the Lambda Web Adapter (``run.sh``).
"""

from __future__ import annotations

import base64
import time

from gptoss_proxy.wiring import build_service

SERVICE = None


def _service():
    global SERVICE
    if SERVICE is None:
        SERVICE = build_service()
    return SERVICE


def _request(event: dict) -> tuple[str, str, dict, bytes, str]:
    http = (event.get("requestContext") or {}).get("http")
    if http:  # HTTP API v2 / Function URL
        method, path = http.get("method", "GET"), event.get("rawPath", "/")
        consumer = (((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}).get("userArn", "unknown")
    else:  # REST API v1
        method, path = event.get("httpMethod", "GET"), event.get("path", "/")
        consumer = ((event.get("requestContext") or {}).get("identity") or {}).get("userArn") or "unknown"
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return method, path, headers, raw, consumer


def lambda_handler(event: dict, context) -> dict:
    method, path, headers, body, consumer = _request(event)
    remaining = context.get_remaining_time_in_millis() / 1000 if context else 300
    response = _service().handle(
        method, path, headers, body, deadline=time.monotonic() + remaining - 1, consumer=consumer,
        # the front door's id (API Gateway / Function URL requestContext.requestId), else the invocation's
        request_id=(event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", ""),
    )
    payload = response.body if not response.streaming else b"".join(response.body)
    return {"statusCode": response.status, "headers": response.headers, "body": payload.decode(), "isBase64Encoded": False}
