"""Proxy overhead and cold import, measured against the local emulators (no AWS).

overhead = (OpenAI-SDK-style HTTP request through the proxy, guardrail off) - (boto3 call straight to the same
emulator): the proxy's own cost (HTTP parsing, validation, translation, SSE framing), p50/p99, median of runs.
Run: ``make bench`` (writes bench/results.md and bench/results.json).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY_DIR = ROOT / "lambda" / "invoke_proxy"
sys.path[:0] = [str(ROOT), str(PROXY_DIR)]

from emulators.devserver import emulator_env  # noqa: E402
from emulators.server import Emulator  # noqa: E402

REQUESTS, RUNS, WARMUP = 150, 5, 20
BODY = {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _time(fn, n: int) -> list[float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def measure_overhead() -> dict:
    emulator = Emulator().start()
    env = emulator_env(emulator.url, GPTOSS_GUARDRAIL_ID="")
    os.environ.update(env)
    import boto3
    from botocore.config import Config

    from gptoss_proxy.wiring import build_service
    from http_server import serve

    server = serve(build_service(env, log=lambda r: None), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    sm = boto3.client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))
    backend_body = json.dumps({**BODY, "stream": False, "reasoning_effort": "medium"}).encode()
    stream_body = json.dumps({**BODY, "stream": True, "stream_options": {"include_usage": True}, "reasoning_effort": "medium"}).encode()

    def direct():
        sm.invoke_endpoint(EndpointName="gptoss-20b-dev", Body=backend_body, ContentType="application/json")["Body"].read()

    def direct_stream():
        for _ in sm.invoke_endpoint_with_response_stream(EndpointName="gptoss-20b-dev", Body=stream_body, ContentType="application/json")["Body"]:
            pass

    def via(payload: dict):
        data = json.dumps(payload).encode()

        def call():
            with urllib.request.urlopen(urllib.request.Request(proxy, data=data, headers={"Content-Type": "application/json"})) as r:
                r.read()

        return call

    service = build_service(env, log=lambda r: None)

    def in_process(payload: dict):
        data = json.dumps(payload).encode()

        def call():
            response = service.handle("POST", "/v1/chat/completions", {}, data)
            if response.streaming:
                for _ in response.body:
                    pass

        return call

    results = {"in_process": {}, "over_http": {}}
    for kind, wrap in (("in_process", in_process), ("over_http", via)):
        for name, base, proxied in (
            ("non-stream", direct, wrap(BODY)),
            ("stream", direct_stream, wrap({**BODY, "stream": True, "stream_options": {"include_usage": True}})),
        ):
            p50s, p99s, base50, proxy50 = [], [], [], []
            for _ in range(RUNS):
                b, p = _time(base, REQUESTS), _time(proxied, REQUESTS)
                p50s.append(statistics.median(p) - statistics.median(b))
                p99s.append(_percentile(p, 99) - _percentile(b, 99))
                base50.append(statistics.median(b))
                proxy50.append(statistics.median(p))
            results[kind][name] = {
                "direct_boto3_p50_ms": round(statistics.median(base50), 3),
                "via_proxy_p50_ms": round(statistics.median(proxy50), 3),
                "overhead_p50_ms": round(statistics.median(p50s), 3),
                "overhead_p99_ms": round(statistics.median(p99s), 3),
            }
    server.shutdown()
    emulator.stop()
    return results


def measure_cold_import(runs: int = 7) -> dict:
    code = "import time; t=time.perf_counter(); import handler; print((time.perf_counter()-t)*1000)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=PROXY_DIR, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip()))
    boto = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import boto3; print((time.perf_counter()-t)*1000)"], capture_output=True, text=True, check=True)
        boto.append(float(out.stdout.strip()))
    return {"handler_import_median_ms": round(statistics.median(samples), 1), "boto3_import_median_ms": round(statistics.median(boto), 1)}


if __name__ == "__main__":
    print(json.dumps({"overhead": measure_overhead(), "cold_import": measure_cold_import()}, indent=1))


def measure_guardrail_stream(runs: int = 3, rate: int = 50, content_chars: int = 1500) -> dict:
    """Time to the first released reasoning and content token, streaming at ``rate`` tokens/s (~4 characters a
    token, the emulator's ``[[rate:T]]``), with no guardrail, with the guardrail in ``safe`` mode, and with
    ``safe`` mode's former behaviour (nothing released before a 1,000-character batch passed); plus guardrail
    calls and text units per response (counted by the emulator's ApplyGuardrail, per text block)."""
    import functools

    from gptoss_proxy.adapters.aws import client
    from gptoss_proxy.core import guard as guard_module
    from gptoss_proxy.core import service as service_module
    from gptoss_proxy.wiring import build_service

    client.cache_clear()
    emulator = Emulator().start()
    body = json.dumps({"model": "gpt-oss-20b", "stream": True, "messages": [{"role": "user", "content": f"[[long:{content_chars}]] [[rate:{rate}]]"}]}).encode()
    configs = {
        "no guardrail": ({"GPTOSS_GUARDRAIL_ID": ""}, None),
        "safe": ({}, None),
        "safe, 1,000-char first batch (before)": ({}, functools.partial(guard_module.Guard, first_batch_chars=1000)),
    }
    results = {}
    original = service_module.Guard
    for name, (overrides, guard_cls) in configs.items():
        env = emulator_env(emulator.url, **overrides)
        os.environ.update(env)
        client.cache_clear()
        service = build_service(env, log=lambda r: None)
        service_module.Guard = guard_cls or original
        firsts, reasons, totals, calls, units, chars = [], [], [], [], [], []
        try:
            for _ in range(runs):
                emulator.stats.reset()
                start = time.perf_counter()
                first = reason = None
                for part in service.handle("POST", "/v1/chat/completions", {}, body).body:
                    if part.startswith(b"data: {"):
                        delta = (json.loads(part[6:]).get("choices") or [{}])[0].get("delta") or {}
                        if reason is None and delta.get("reasoning_content"):
                            reason = time.perf_counter() - start
                        if first is None and delta.get("content"):
                            first = time.perf_counter() - start
                totals.append(time.perf_counter() - start)
                firsts.append(first)
                reasons.append(reason)
                outputs = [c for c in emulator.stats.snapshot()["guardrail"] if c["source"] == "OUTPUT"]
                calls.append(len(outputs))
                units.append(sum(c["units"] for c in outputs))
                chars.append(sum(c["chars"] for c in outputs))
        finally:
            service_module.Guard = original
        results[name] = {
            "first_content_token_s": round(statistics.median(firsts), 3),
            "first_reasoning_token_s": round(statistics.median(reasons), 3),
            "response_s": round(statistics.median(totals), 3),
            "output_guardrail_calls": statistics.median(calls),
            "output_text_units": statistics.median(units),
            "output_chars_checked": statistics.median(chars),
        }
    emulator.stop()
    return {"rate_tokens_per_s": rate, "content_chars": content_chars, "runs": runs, "configs": results}
