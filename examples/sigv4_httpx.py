"""An httpx auth that signs every request with SigV4 (botocore), for clients of the private API."""

from __future__ import annotations

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


class SigV4(httpx.Auth):
    """Signs requests for ``service`` (``execute-api`` for the private REST API, ``lambda`` for a Function URL)."""

    requires_request_body = True

    def __init__(self, region: str, service: str = "execute-api", session: boto3.Session | None = None) -> None:
        self.region = region
        self.service = service
        self.credentials = (session or boto3.Session()).get_credentials()

    def auth_flow(self, request: httpx.Request):
        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers={"content-type": request.headers.get("content-type", "application/json")})
        SigV4Auth(self.credentials.get_frozen_credentials(), self.service, self.region).add_auth(signed)
        request.headers.update(dict(signed.headers))
        yield request
