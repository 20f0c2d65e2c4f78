"""Fixtures for the proxy: the emulators and the proxy's HTTP app on free localhost ports, once per session.

boto3 inside the proxy is pointed at the emulators through AWS_ENDPOINT_URL_* (dummy credentials); the
Lambda asset folder is put on sys.path (``lambda`` is a keyword, never an import path).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROXY_DIR = ROOT / "lambda" / "invoke_proxy"
if str(PROXY_DIR) not in sys.path:
    sys.path.insert(0, str(PROXY_DIR))

from emulators.devserver import emulator_env, proxy_environment  # noqa: E402
from emulators.server import Emulator, serve_in_thread  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def one_tls_context_for_http_clients():
    """Every OpenAI SDK, LangChain and Strands client the tests create builds an httpx transport, and httpx 0.29
    builds a new default TLS context for each (``httpx._transports.default`` calls ``create_ssl_context``, which
    loads the whole CA bundle: ~20 ms of CPU, ~6 s over the proxy tests). The clients here speak plain HTTP to
    localhost, so the default context is built once and shared; a client given its own ``verify`` or ``cert``
    still gets its own."""
    from httpx._transports import default as transport

    build, shared = transport.create_ssl_context, {}

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if verify is not True or cert is not None:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        if key not in shared:
            shared[key] = build(verify=verify, cert=cert, trust_env=trust_env)
        return shared[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport, "create_ssl_context", create_ssl_context)
        yield


@pytest.fixture(scope="session")
def emulator():
    em = Emulator().start()
    yield em
    em.stop()


@pytest.fixture(scope="session")
def proxy_env(emulator):
    # another module's emulator (tests/test_verify.py) run earlier on this worker must not receive these calls
    with proxy_environment(emulator_env(emulator.url, GPTOSS_MAX_RETRIES="1", GPTOSS_BACKEND_TIMEOUT_SECONDS="3")) as env:
        yield env


@pytest.fixture(scope="session")
def logs():
    return []


@pytest.fixture(scope="session")
def proxy_url(proxy_env, logs):
    from gptoss_proxy.wiring import build_service
    from http_server import serve

    from emulators.sealer import local_sealer

    server = serve(build_service(proxy_env, log=logs.append, sealer=local_sealer()), "127.0.0.1", 0)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def client(proxy_url):
    import openai

    return openai.OpenAI(base_url=f"{proxy_url}/v1", api_key="unused-iam-signed-in-aws", max_retries=0, timeout=30)


@pytest.fixture
def stats(emulator):
    """Resets the emulator's counters; call the returned function for a snapshot."""
    urllib.request.urlopen(urllib.request.Request(f"{emulator.url}/_reset", data=b"{}", method="POST")).read()
    return lambda: json.loads(urllib.request.urlopen(f"{emulator.url}/_stats").read())


def post(url: str, body: bytes | dict, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A raw POST (for bodies the SDK would refuse to send); returns status, headers, body."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()
