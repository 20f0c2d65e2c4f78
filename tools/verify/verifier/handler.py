"""The short-lived verifier function: calls the private API from inside the VPC, as a consumer would.

Deployed and deleted by ``make verify`` (tools/verify/routes.py) with the Proxy function's subnets, a security
group of its own (HTTPS to the VPC CIDR only) and a role that may only ``execute-api:Invoke`` this API's stage.
It only reports what it saw; the command judges. Standard library + botocore (in every Lambda Python runtime):
each request is signed with SigV4 (service ``execute-api``) from the function's role credentials.

Event: ``{"region": "...", "base_url": "https://<api>.execute-api.<region>.amazonaws.com/prod/",
"timeout": 120, "requests": [{"id": "...", "method": "POST", "path": "v1/chat/completions", "body": {...},
"stream": false}]}``. Answer: ``{"results": [{"id", "status", "headers", "body" | "events", ...}]}``.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

BODY_LIMIT = 8000
KEEP_HEADERS = ("content-type", "x-request-id", "x-gptoss-route", "x-amzn-errortype", "x-amzn-requestid")


def _signed(method: str, url: str, body: bytes | None, region: str) -> dict:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = botocore.session.get_session().get_credentials()
    request = AWSRequest(method=method, url=url, data=body or b"", headers={"content-type": "application/json"} if body else {})
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def call(req: dict, base_url: str, region: str, timeout: float) -> dict:
    url = base_url.rstrip("/") + "/" + req["path"].lstrip("/")
    body = json.dumps(req["body"]).encode() if req.get("body") is not None else None
    headers = _signed(req.get("method", "GET"), url, body, region)
    out: dict = {"id": req["id"], "url": url}
    started = time.monotonic()
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, data=body, method=req.get("method", "GET"), headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        response = err
    except Exception as err:  # noqa: BLE001 - DNS, TLS, timeout: the evidence is the error itself
        out.update(status=0, error=f"{type(err).__name__}: {err}"[:500], seconds=round(time.monotonic() - started, 2))
        return out
    out["status"] = response.status if hasattr(response, "status") else response.code
    out["headers"] = {k: v for k, v in response.headers.items() if k.lower() in KEEP_HEADERS}
    if req.get("stream") and "text/event-stream" in response.headers.get("content-type", ""):
        events, first = [], None
        for raw in response:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("data:"):
                first = first if first is not None else round(time.monotonic() - started, 2)
                events.append(line[5:].strip())
        out.update(events=events[:200], event_count=len(events), first_event_seconds=first)
    else:
        out["body"] = response.read().decode("utf-8", "replace")[:BODY_LIMIT]
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


def handler(event, context=None):
    region = event.get("region") or os.environ.get("AWS_REGION", "us-east-1")
    timeout = float(event.get("timeout", 120))
    return {"results": [call(req, event["base_url"], region, timeout) for req in event.get("requests", [])]}
