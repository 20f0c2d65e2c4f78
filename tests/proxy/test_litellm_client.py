"""Issue 23 item 6: what LiteLLM 1.106.2 (as a client, from `.venv-litellm`: its pins clash with ours) puts on the
wire for reasoning budgets, per model prefix — the facts the README's LiteLLM paragraph states. A local server
records the bodies LiteLLM sends; the last check runs the documented call against the proxy itself."""

from __future__ import annotations

import json
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emulators.server import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-litellm" / "bin" / "python"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PYTHON.exists(), reason="needs .venv-litellm (`make .venv-litellm/.stamp`, LiteLLM 1.106.2 pinned in requirements-litellm.txt)")]

SCRIPT = r'''
import json, sys, litellm
base, proxy = sys.argv[1], sys.argv[2]
msgs = [{"role": "user", "content": "hi"}]
out = {}
def call(name, **kw):
    try:
        litellm.completion(messages=msgs, api_key="unused", **kw)
        out[name] = "ok"
    except Exception as err:
        out[name] = type(err).__name__
thinking = {"type": "enabled", "budget_tokens": 256}
for prefix in ("litellm_proxy", "openai", "hosted_vllm"):
    call(f"{prefix}:thinking", model=f"{prefix}/gpt-oss-20b", api_base=base + "/" + prefix, thinking=thinking)
    call(f"{prefix}:extra_body", model=f"{prefix}/gpt-oss-20b", api_base=base + "/" + prefix, extra_body={"reasoning": {"max_tokens": 256}})
r = litellm.completion(model="openai/gpt-oss-20b", api_base=proxy + "/v1", api_key="unused", messages=msgs, extra_body={"reasoning": {"max_tokens": 256}})
out["proxy"] = r.choices[0].message.content
print(json.dumps({"results": out, "version": litellm.__version__ if hasattr(litellm, "__version__") else None}))
'''

ANSWER = {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


@pytest.fixture(scope="module")
def wire(proxy_url):
    bodies: dict[str, list] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            bodies.setdefault(self.path.split("/")[1], []).append(body)
            data = json.dumps(ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve_in_thread(server)
    done = subprocess.run([str(PYTHON), "-c", SCRIPT, f"http://127.0.0.1:{server.server_address[1]}", proxy_url], capture_output=True, text=True, timeout=240)
    server.shutdown()
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["results"], bodies


def test_litellm_proxy_prefix_passes_thinking(wire):
    results, bodies = wire
    assert results["litellm_proxy:thinking"] == "ok"
    assert bodies["litellm_proxy"][0]["thinking"] == {"type": "enabled", "budget_tokens": 256}


def test_openai_prefix_refuses_thinking(wire):
    results, bodies = wire
    assert results["openai:thinking"] == "UnsupportedParamsError"


def test_hosted_vllm_prefix_rewrites_thinking_to_an_effort(wire):
    results, bodies = wire
    assert results["hosted_vllm:thinking"] == "ok"
    body = bodies["hosted_vllm"][0]
    assert "thinking" not in body and body.get("reasoning_effort") == "minimal"


@pytest.mark.parametrize("prefix", ["litellm_proxy", "openai", "hosted_vllm"])
def test_extra_body_reasoning_passes_with_every_prefix(wire, prefix):
    results, bodies = wire
    assert results[f"{prefix}:extra_body"] == "ok"
    assert bodies[prefix][-1]["reasoning"] == {"max_tokens": 256}


def test_the_documented_call_works_against_the_proxy(wire):
    assert wire[0]["proxy"].startswith("Echo: hi")
