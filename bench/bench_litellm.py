"""LiteLLM's proxy in front of the same emulator, for comparison with our proxy's overhead.

LiteLLM runs from its own venv (.venv-litellm, requirements-litellm.txt: it pins its own openai/pydantic
stack) as its real CLI server; it is pointed at the emulator's OpenAI-compatible path (``openai/`` provider),
and its overhead is measured the same way as ours: via-proxy latency minus calling the same emulator directly.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITELLM = ROOT / ".venv-litellm" / "bin" / "litellm"
sys.path[:0] = [str(ROOT)]

from bench_proxy import REQUESTS, RUNS, _percentile, _time  # noqa: E402
from emulators.server import Emulator  # noqa: E402

BODY = {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MASTER_KEY = "sk-bench-" + os.urandom(16).hex()  # LiteLLM refuses to start without one


def _post(url: str, payload: dict):
    data = json.dumps(payload).encode()

    def call():
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", "Authorization": f"Bearer {MASTER_KEY}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    return call


def measure() -> dict | None:
    if not LITELLM.exists():
        return None
    emulator = Emulator().start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "litellm.yaml"
        config.write_text(
            "model_list:\n  - model_name: gpt-oss-20b\n    litellm_params:\n      model: openai/gpt-oss-20b\n"
            f"      api_base: {emulator.url}/v1\n      api_key: unused\n"
        )
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "LITELLM_MASTER_KEY": MASTER_KEY}
        server = subprocess.Popen([str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).read()
                    break
                except Exception:
                    time.sleep(0.5)
            else:
                return {"error": "litellm did not start within 120 s"}
            results = {}
            for name, payload in (("non-stream", BODY), ("stream", {**BODY, "stream": True})):
                direct = _post(f"{emulator.url}/v1/chat/completions", payload)
                via = _post(f"http://127.0.0.1:{port}/v1/chat/completions", payload)
                p50s, p99s = [], []
                for _ in range(RUNS):
                    d, v = _time(direct, REQUESTS), _time(via, REQUESTS)
                    p50s.append(statistics.median(v) - statistics.median(d))
                    p99s.append(_percentile(v, 99) - _percentile(d, 99))
                results[name] = {"overhead_p50_ms": round(statistics.median(p50s), 3), "overhead_p99_ms": round(statistics.median(p99s), 3)}
            return results
        finally:
            server.terminate()
            server.wait(timeout=30)
            emulator.stop()


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
