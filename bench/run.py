"""``make bench``: every benchmark side by side in one run, written to bench/results.md and bench/results.json.

1. synth time of the full two-region app vs an empty CDK app (median of runs, same way the CLI runs app.py), and
   how it grows from 1 to 5 regions (``python bench/run.py --only synth`` refreshes just these rows);
2. proxy overhead per request vs calling the same emulator directly with boto3 (in-process and over HTTP,
   stream and non-stream, p50/p99, median of runs) and the handler's cold import;
3. guardrail calls per streamed response vs the text-unit minimum ceil(chars/1000);
4. test-suite wall time;
5. seeds 002/003 (bench_seeds.py): handoff latency vs the large model directly, reasoning tokens vs budget.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "invoke_proxy")]
import bench_concurrency  # noqa: E402
import bench_litellm  # noqa: E402
import bench_proxy  # noqa: E402
import bench_seeds  # noqa: E402

SYNTH_RUNS = 3
#: region order for the growth rows: the first two are the standard pair (SageMaker + Bedrock-only)
GROWTH_REGIONS = ("us-east-1", "us-west-2", "us-east-2", "ap-south-1", "ap-northeast-1")
EMPTY_APP = "from aws_cdk import App, CfnWaitConditionHandle, Stack\napp = App()\nCfnWaitConditionHandle(Stack(app, 'Empty'), 'Nothing')\napp.synth()\n"


def _synth_seconds(args: list[str], context: dict, **extra_env: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(extra_env)
    with tempfile.TemporaryDirectory() as out:
        env.update(CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def _regions_context(regions: tuple[str, ...]) -> dict:
    """Context for ``regions``: each hosts what it can (gpt-oss-20b on SageMaker where JumpStart offers it, every
    Bedrock model offered there), as tests/conftest.py's all-regions app does."""
    from gptoss_constructs import catalog

    overrides = {}
    for region in regions:
        sagemaker = [m for m, info in catalog.models().items() if region in info.jumpstart_regions]
        bedrock = [m for m, info in catalog.models().items() if region in info.bedrock_regions]
        overrides[region] = {"sagemaker_models": ["gpt-oss-20b"] if "gpt-oss-20b" in sagemaker else sagemaker[:1], "bedrock_models": bedrock}
    return {"regions": ",".join(regions), "region_overrides": json.dumps(overrides)}


BENCH_PIPELINE = """pipeline: {account: "111111111111", region: us-east-1}
source: {type: s3, bucket: example-pipeline-source, object_key: gpt-oss-platform.zip}
stages:
  - {name: prod, account: "222222222222", regions: [us-east-1, us-west-2], prod: true,
     approvers: ["arn:aws:iam::111111111111:role/ReleaseApprover"]}
"""


def pipeline_times(context: dict) -> dict:
    """Issue 25: ``-c pipeline=...`` for the same two regions as the plain app (one prod stage), interleaved."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(BENCH_PIPELINE)
    plain, piped = [], []
    try:
        for _ in range(SYNTH_RUNS):
            plain.append(_synth_seconds([sys.executable, "app.py"], {**context, "regions": "us-east-1,us-west-2"}))
            piped.append(_synth_seconds([sys.executable, "app.py"], {**context, "pipeline": f.name}))
    finally:
        os.unlink(f.name)
    return {"plain_s": round(statistics.median(plain), 2), "pipeline_s": round(statistics.median(piped), 2),
            "ratio": round(statistics.median(piped) / statistics.median(plain), 2)}


def synth_times() -> dict:
    """Runs are interleaved (empty, app, empty, app, ...) so a busy machine slows both sides alike."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app, empty, bare, validated = [], [], [], []
    for _ in range(SYNTH_RUNS):
        empty.append(_synth_seconds([sys.executable, "-c", EMPTY_APP], context))
        app.append(_synth_seconds([sys.executable, "app.py"], {**context, "regions": "us-east-1,us-west-2"}))
        bare.append(_synth_seconds([sys.executable, "-c", EMPTY_APP], context, CDK_VALIDATION="false"))
        validated.append(_synth_seconds([sys.executable, "app.py"], {**context, "regions": "us-east-1,us-west-2", "builtin_cloud_formation_validation": True}))
    growth = []
    for n in range(1, len(GROWTH_REGIONS) + 1):
        ctx = {**context, **_regions_context(GROWTH_REGIONS[:n])}
        growth.append({"regions": n, "app_s": round(statistics.median(_synth_seconds([sys.executable, "app.py"], ctx) for _ in range(SYNTH_RUNS)), 2)})
    empty_s = statistics.median(empty)
    for row in growth:
        row["ratio"] = round(row["app_s"] / empty_s, 2)
    return {"load_avg_1min": round(os.getloadavg()[0], 1),
            "app_s": round(statistics.median(app), 2), "empty_s": round(empty_s, 2), "ratio": round(statistics.median(app) / empty_s, 2),
            "empty_without_validation_s": round(statistics.median(bare), 2),
            "app_with_validation_s": round(statistics.median(validated), 2),
            "ratio_with_validation": round(statistics.median(validated) / empty_s, 2),
            "ratio_without_validation": round(statistics.median(app) / statistics.median(bare), 2), "growth": growth,
            "pipeline": pipeline_times(context)}


def guardrail_batches() -> list[dict]:
    from emulators.devserver import emulator_env
    from emulators.server import Emulator
    from gptoss_proxy.adapters.aws import client
    from gptoss_proxy.wiring import build_service

    client.cache_clear()  # boto3 clients of the overhead run point at its (stopped) emulator

    emulator = Emulator().start()
    env = emulator_env(emulator.url)
    os.environ.update(env)
    service = build_service(env, log=lambda r: None)
    rows = []
    for n in (500, 1000, 2500, 10000):
        emulator.stats.reset()
        body = json.dumps({"model": "gpt-oss-20b", "stream": True, "messages": [{"role": "user", "content": f"[[long:{n}]]"}]}).encode()
        response = service.handle("POST", "/v1/chat/completions", {}, body)
        text = b"".join(response.body).decode()
        assert '"finish_reason": "stop"' in text, text[-500:]
        outputs = [c for c in emulator.stats.snapshot()["guardrail"] if c["source"] == "OUTPUT"]
        chars = sum(c["chars"] for c in outputs)
        reasoning = chars - n  # every character is checked once on this text (no hard cuts)
        rows.append({"content_chars": n, "output_chars_checked": chars, "output_calls": len(outputs), "output_units": sum(c["units"] for c in outputs),
                     "minimum_calls_per_field": math.ceil(n / 1000) + 1, "bound_units": math.ceil(n / 1000) + 1 + math.ceil(reasoning / 1000) + 1})
    emulator.stop()
    return rows


def test_suite_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT, check=True, capture_output=True)
    return round(time.perf_counter() - start, 1)


def main() -> None:
    if sys.argv[1:] == ["--only", "synth"]:  # refresh the synth rows, keep the other measurements
        results = json.loads((ROOT / "bench" / "results.json").read_text())
        results["synth"] = synth_times()
        (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (ROOT / "bench" / "results.md").write_text(render(results))
        print(render(results))
        return
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "synth": synth_times(),
        "proxy": bench_proxy.measure_overhead(),
        "litellm": bench_litellm.measure(),
        "cold_import": bench_proxy.measure_cold_import(),
        "guardrail": guardrail_batches(),
        "concurrency": {"default_backlog_5": bench_concurrency.measure(backlog=5), "ours": bench_concurrency.measure()},
        "guard_stream": bench_proxy.measure_guardrail_stream(),
        "seeds": bench_seeds.measure(),
        "tests_s": test_suite_seconds(),
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (ROOT / "bench" / "results.md").write_text(render(results))
    print(render(results))


def render(r: dict) -> str:
    p = r["proxy"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {r['machine']['cpus']} CPUs, Python {r['machine']['python']}, {r['machine']['platform']}. Produced by `make bench`.",
        "",
        "| Measure | Result | Target |",
        "| --- | --- | --- |",
        f"| Synth, full two-region app vs empty CDK app (median of {SYNTH_RUNS}) | {r['synth']['app_s']} s vs {r['synth']['empty_s']} s = **{r['synth']['ratio']}×** | ≤ 2.0× |",
    ]
    if "empty_without_validation_s" in r["synth"]:
        s = r["synth"]
        lines.append(f"| Synth, same app vs an empty app that also skips the built-in validation (`CDK_VALIDATION=false`) | {s['app_s']} s vs {s['empty_without_validation_s']} s = {s['ratio_without_validation']}× | (informative: our own constructs, imports and cdk-nag) |")
    if "app_with_validation_s" in r["synth"]:
        s = r["synth"]
        lines.append(f"| Synth, the app with the built-in validation back on (`-c builtin_cloud_formation_validation=true`, the state before) vs the empty app | {s['app_with_validation_s']} s vs {s['empty_s']} s = {s['ratio_with_validation']}× | (informative) |")
    for g in r["synth"].get("growth", []):
        lines.append(f"| Synth with {g['regions']} region(s) vs the empty app (median of {SYNTH_RUNS}) | {g['app_s']} s = {g['ratio']}× | (growth per region) |")
    if "pipeline" in r["synth"]:
        pl = r["synth"]["pipeline"]
        lines.append(f"| Synth with the deploy pipeline on (`-c pipeline=...`, one stage, same two regions) vs the plain app (median of {SYNTH_RUNS}) | {pl['pipeline_s']} s vs {pl['plain_s']} s = **{pl['ratio']}×** | ≤ 1.5× |")
    for mode in ("non-stream", "stream"):
        m = p["in_process"][mode]
        lines.append(f"| Proxy overhead in-process, {mode} (p50 / p99) | **{m['overhead_p50_ms']} ms** / {m['overhead_p99_ms']} ms (boto3 direct p50 {m['direct_boto3_p50_ms']} ms) | ≤ 2 ms p50 |")
    for mode in ("non-stream", "stream"):
        m = p["over_http"][mode]
        lines.append(f"| Proxy overhead incl. its HTTP hop, {mode} (p50 / p99) | {m['overhead_p50_ms']} ms / {m['overhead_p99_ms']} ms | (informative) |")
    ll = r.get("litellm")
    if ll and "error" not in ll:
        for mode in ("non-stream", "stream"):
            ours, theirs = p["over_http"][mode]["overhead_p50_ms"], ll[mode]["overhead_p50_ms"]
            lines.append(f"| vs LiteLLM 1.106.2 proxy (same emulator, over HTTP), {mode} p50 | ours {ours} ms vs LiteLLM {theirs} ms = **{ours / theirs:.2f}×** | ≤ 0.5× |")
    else:
        lines.append(f"| vs LiteLLM proxy | not measured: {ll and ll.get('error') or '.venv-litellm missing'} | ≤ 0.5× |")
    lines.append(f"| Cold import of the Lambda handler (median of 7) | **{r['cold_import']['handler_import_median_ms']} ms** (boto3 alone: {r['cold_import']['boto3_import_median_ms']} ms, deferred to the first call) | ≤ 150 ms |")
    for g in r["guardrail"]:
        if "output_units" in g:
            lines.append(f"| Guardrail calls, stream of {g['content_chars']} content chars (+ reasoning) | {g['output_calls']} calls, {g['output_units']} text units for {g['output_chars_checked']} chars | ≤ {g['bound_units']} units (ceil(chars/1000) + 1 per field) |")
        else:
            lines.append(f"| Guardrail calls, stream of {g['content_chars']} content chars (+ reasoning) | {g['output_calls']} calls for {g['output_chars_checked']} chars | minimum {g['minimum_calls_per_field']} (ceil per field) |")
    gs = r.get("guard_stream")
    if gs:
        base = gs["configs"]["no guardrail"]
        for name, m in gs["configs"].items():
            extra = "" if name == "no guardrail" else f" (+{m['first_content_token_s'] - base['first_content_token_s']:.3f} s)"
            lines.append(
                f"| First released token at {gs['rate_tokens_per_s']} tok/s, {name} ({gs['content_chars']} content chars) | "
                f"content **{m['first_content_token_s']} s**{extra}, reasoning {m['first_reasoning_token_s']} s; "
                f"{m['output_guardrail_calls']} output guardrail calls, {m['output_text_units']} text units for {m['output_chars_checked']} chars | "
                f"units ≤ Σ per field (ceil(chars/1000) + 1) |"
            )
    if r.get("concurrency"):
        lines.append(concurrency_row(r["concurrency"]))
    lines.append(f"| Test suite wall time (`pytest`, 2 cores) | {r['tests_s']} s | ≤ 90 s |")
    lines += [
        "",
        "Synth: `python app.py` as the CDK CLI runs it (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR), wall time "
        "including Python start, imports and the jsii/Node side, against an empty CDK app (one stack, one resource) "
        "run the same way. The app turns off aws-cdk-lib's built-in CloudFormation validation (a WASM build of cfn-lint's "
        "rules, ~60% of its synth; `make lint` and the tests run cfn-lint itself on every template; "
        "`-c builtin_cloud_formation_validation=true` turns it back on); the empty app keeps CDK's default. "
        f"Load average when measured: {r['synth'].get('load_avg_1min', '?')} on {r['machine']['cpus']} CPUs (other jobs ran alongside, so "
        "single rows are noisy). Where the time goes: bench/synth_profile.md.",
        "",
        "Overheads are via-proxy latency minus a direct call to the same local emulator, medians of "
        f"{bench_proxy.RUNS} runs of {bench_proxy.REQUESTS} requests (guardrail off, so only the proxy's own work counts). "
        "LiteLLM runs as its real proxy server from `.venv-litellm` with the `openai/` provider pointed at the "
        "emulator's OpenAI-compatible path.",
        "Concurrency: `bench/bench_concurrency.py` (also runs alone) opens every stream behind one barrier, each "
        "`[[slow]]` (the emulator holds its last part 1 s) so that the streams overlap.",
        "",
        "First-token rows: the SageMaker route of the emulator streams one ~4-character token per event at the "
        "stated rate; time is from the request to the first SSE chunk carrying that field. The emulator's "
        "guardrail answers in about a millisecond: a real ApplyGuardrail round trip (not measurable offline) "
        "adds once before the first token and once per released batch. Text units are counted per block, "
        "ceil(chars/1000), by the emulator.",
        "",
    ]
    if r.get("seeds"):
        lines += bench_seeds.render(r["seeds"])
    return "\n".join(lines)


def concurrency_row(c: dict) -> str:
    ours, default = c["ours"], c["default_backlog_5"]
    return (
        f"| Concurrent streams through the dev server (proxy + emulators, guardrail on), all opened at once | "
        f"**{ours['complete']} of {ours['streams']}** complete (listen backlog {ours['backlog']}; peak {ours['peak_open_model_streams']} model streams open, "
        f"slowest {ours['slowest_stream_s']} s); with socketserver's default backlog {default['backlog']}: {default['complete']} of {default['streams']} "
        f"({', '.join(default['errors']) or 'no errors'}) | {ours['streams']} of {ours['streams']} |"
    )


if __name__ == "__main__":
    main()
