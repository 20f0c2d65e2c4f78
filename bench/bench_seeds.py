"""Seeds 002 and 003 on the emulators: what a handoff costs vs asking the large model directly, and reasoning
tokens vs the budget (``make bench`` runs it with the rest; alone: ``.venv/bin/python bench/bench_seeds.py``, which
rewrites only its own section of bench/results.md and its key of bench/results.json).

Both routes here are SageMaker routes of the emulator, so ``[[rate:T]]`` makes each model stream at T tokens/s
(one ~4-character token per event): the handoff's cost in time is the small model's reasoning and tool call,
streamed at that rate, plus the proxy's own work and one more backend round trip.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "invoke_proxy")]

from emulators.devserver import emulator_env  # noqa: E402
from emulators.server import Emulator  # noqa: E402

ROUTES = {
    "small": {"backend": "sagemaker", "endpoint_name": "small-ep", "handoff": "large"},
    "large": {"backend": "sagemaker", "endpoint_name": "large-ep"},
    "bedrock": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
    "exact": {"backend": "sagemaker", "endpoint_name": "exact-ep", "budget_mode": "harmony"},
}
BUDGETS = (None, 32, 128, 512, 2048)
THINKS = 1000  # the emulated model wants 1,000 reasoning tokens
RATE = 50
NON_STREAM_RUNS = 100
STREAM_RUNS = 5
SECTION = "## Seeds 002 and 003: handoff and reasoning budgets"


def _service(emulator: Emulator, **settings: str):
    from gptoss_proxy.adapters.aws import client
    from gptoss_proxy.wiring import build_service

    client.cache_clear()
    env = emulator_env(emulator.url, **{"GPTOSS_ROUTES": json.dumps(ROUTES), "GPTOSS_GUARDRAIL_ID": "", **settings})
    os.environ.update(env)
    return build_service(env, log=lambda r: None)


def _ask(service, model: str, prompt: str, stream: bool, **extra) -> tuple[float, float | None, str]:
    """Seconds to the whole answer, seconds to the first content chunk (streams), and the body."""
    body = json.dumps({"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}], **extra}).encode()
    start = time.perf_counter()
    response = service.handle("POST", "/v1/chat/completions", {}, body)
    if not response.streaming:
        return time.perf_counter() - start, None, response.body.decode()
    first, parts = None, []
    for part in response.body:
        parts.append(part)
        if first is None and b'"content": "' in part and b'"content": ""' not in part:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first, b"".join(parts).decode()


def measure_handoff() -> dict:
    emulator = Emulator().start()
    service = _service(emulator)
    out: dict = {"rate_tokens_per_s": RATE}
    try:
        cases = {"large directly": ("large", "hello"), "small hands off": ("small", "[[beyond]] hello"), "small answers": ("small", "hello")}
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for i in range(NON_STREAM_RUNS + 5):  # interleaved, so load on the machine hits every case alike
            for name, (model, prompt) in cases.items():
                seconds = _ask(service, model, prompt, False)[0]
                if i >= 5:
                    samples[name].append(seconds * 1000)
        out["non_stream_p50_ms"] = {name: round(statistics.median(v), 3) for name, v in samples.items()}
        stream = {}
        for name, (model, prompt) in cases.items():
            runs = [_ask(service, model, f"{prompt} [[rate:{RATE}]]", True) for _ in range(STREAM_RUNS)]
            assert all('"finish_reason": "stop"' in r[2] for r in runs), runs[0][2][-400:]
            stream[name] = {"first_content_s": round(statistics.median(r[1] for r in runs), 3), "total_s": round(statistics.median(r[0] for r in runs), 3)}
        out["stream"] = stream
    finally:
        emulator.stop()
    return out


def measure_budget() -> list[dict]:
    """Reasoning tokens (usage), released reasoning and answer length vs the budget, per mode, non-stream."""
    emulator = Emulator().start()
    service = _service(emulator)
    rows = []
    try:
        for mode, model in (("chat, SageMaker", "large"), ("chat, Bedrock", "bedrock"), ("harmony, SageMaker", "exact")):
            for n in BUDGETS:
                emulator.stats.reset()
                extra = {"reasoning": {"max_tokens": n}} if n else {}
                _, _, text = _ask(service, model, f"[[think:{THINKS}]] what is 2+2?", False, **extra)
                body = json.loads(text)
                message, usage = body["choices"][0]["message"], body["usage"]
                rows.append({"mode": mode, "budget": n, "reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"],
                             "released_reasoning_chars": len(message.get("reasoning_content") or ""),
                             "answer_chars": len(message.get("content") or ""), "backend_calls": len(emulator.stats.snapshot()["bodies"])})
    finally:
        emulator.stop()
    return rows


def measure() -> dict:
    return {"handoff": measure_handoff(), "budget": measure_budget()}


def render(r: dict) -> list[str]:
    h = r["handoff"]
    ns, st = h["non_stream_p50_ms"], h["stream"]
    lines = [
        SECTION,
        "",
        "| Measure | Result |",
        "| --- | --- |",
        f"| Handoff, non-stream p50 (emulator answers at once: proxy work + one more backend call) | large directly **{ns['large directly']} ms**, "
        f"small hands off **{ns['small hands off']} ms** (+{ns['small hands off'] - ns['large directly']:.3f} ms), small answers itself {ns['small answers']} ms |",
    ]
    d, s = st["large directly"], st["small hands off"]
    lines.append(
        f"| Handoff, stream at {h['rate_tokens_per_s']} tok/s: first content / whole answer (median of {STREAM_RUNS}) | large directly "
        f"**{d['first_content_s']} s** / {d['total_s']} s; small hands off **{s['first_content_s']} s** / {s['total_s']} s "
        f"(+{s['first_content_s'] - d['first_content_s']:.3f} s: the small model's reasoning and tool call at that rate) |"
    )
    for b in r.get("budget", []):
        budget = f"{b['budget']} tokens" if b["budget"] else "none"
        lines.append(f"| Reasoning budget {budget}, {b['mode']} (model wants {THINKS}) | **{b['reasoning_tokens']} reasoning tokens** (usage), "
                     f"{b['released_reasoning_chars']} reasoning chars released, answer {b['answer_chars']} chars, {b['backend_calls']} backend call(s) |")
    lines += [
        "",
        "Handoff rows: both models on emulated SageMaker routes, guardrail off. On real endpoints the added time is the "
        "small model's reasoning before it decides (its time to call the tool) plus one request to the large model.",
        "",
        "Budget rows: `chat` stops the stream at the budget (4 characters a token) and re-asks at low effort, whose own "
        "short reasoning (3 tokens here) is added; `harmony` ends the analysis message at exactly the budget in tokens "
        "counted by the backend and opens the final channel (2 completions calls).",
        "",
    ]
    return lines


def write(results: dict) -> None:
    """Rewrites this section of bench/results.md and the ``seeds`` key of bench/results.json."""
    md_path, json_path = ROOT / "bench" / "results.md", ROOT / "bench" / "results.json"
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    data["seeds"] = results
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    text = md_path.read_text() if md_path.exists() else ""
    head = text.split(SECTION)[0].rstrip("\n")
    md_path.write_text(head + "\n\n" + "\n".join(render(results)))


if __name__ == "__main__":
    results = measure()
    write(results)
    print("\n".join(render(results)))
