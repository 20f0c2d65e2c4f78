"""Concurrent streams through the dev server: N clients open a stream at the same instant (a barrier), each
against the proxy's HTTP app in front of the emulators (guardrail on, as ``make dev``), and every stream must
arrive whole (status 200, the full content, ``[DONE]``). Run with the listen backlog the servers use (1024) and
with socketserver's default (5) to show what the backlog changes.

    .venv/bin/python bench/bench_concurrency.py [N]
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "invoke_proxy")]

STREAMS = 200
CONTENT_CHARS = 1500  # two guardrail batches per stream


def _one(port: int, barrier: threading.Barrier, out: list, i: int) -> None:
    body = json.dumps({"model": "gpt-oss-20b", "stream": True, "messages": [{"role": "user", "content": f"[[slow]] [[long:{CONTENT_CHARS}]] #{i}"}]})
    barrier.wait()
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        events = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
        content = "".join((json.loads(e)["choices"] or [{}])[0].get("delta", {}).get("content") or "" for e in events[:-1] if '"choices"' in e)
        ok = response.status == 200 and events[-1:] == ["[DONE]"] and len(content) == CONTENT_CHARS
        error = None
        if not ok:
            try:
                error = f"HTTP {response.status} {json.loads(text)['error']['code']}"
            except (ValueError, KeyError, TypeError):
                error = f"HTTP {response.status}: incomplete stream"
        out.append({"ok": ok, "status": response.status, "s": time.perf_counter() - started, "error": error})
    except Exception as err:  # a reset connection, a timeout: counted, not raised
        out.append({"ok": False, "status": None, "s": time.perf_counter() - started, "error": f"{err.__class__.__name__}: {err}"})


def measure(streams: int = STREAMS, backlog: int | None = None) -> dict:
    """Runs ``streams`` simultaneous streams; ``backlog`` overrides both servers' listen backlog (None: theirs)."""
    import http_server
    from emulators import server as emulators
    from emulators.devserver import emulator_env
    from gptoss_proxy.adapters.aws import client
    from gptoss_proxy.wiring import build_service

    saved = (http_server.Server.request_queue_size, emulators._Server.request_queue_size)
    if backlog is not None:
        http_server.Server.request_queue_size = emulators._Server.request_queue_size = backlog
    client.cache_clear()
    emulator = emulators.Emulator().start()
    env = emulator_env(emulator.url)
    os.environ.update(env)
    proxy = http_server.serve(build_service(env, log=lambda r: None), "127.0.0.1", 0)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        barrier, out = threading.Barrier(streams), []
        threads = [threading.Thread(target=_one, args=(proxy.server_address[1], barrier, out, i)) for i in range(streams)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        timelines = emulator.stats.snapshot()["timelines"]
    finally:
        proxy.shutdown()
        proxy.server_close()
        emulator.stop()
        http_server.Server.request_queue_size, emulators._Server.request_queue_size = saved
    # the most model streams open at one instant, from the emulator's own send times
    spans = sorted((t["sent"][0], t["finished"]) for t in timelines if t["sent"])
    edges = sorted([(s, 1) for s, _ in spans] + [(f, -1) for _, f in spans])
    peak = level = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    errors = sorted({o["error"].split(":")[0] for o in out if o["error"]})  # kinds, e.g. ConnectionResetError, HTTP 502 backend_error
    return {
        "streams": streams,
        "backlog": backlog if backlog is not None else saved[0],
        "complete": sum(o["ok"] for o in out),
        "failed": sum(not o["ok"] for o in out),
        "errors": errors,
        "peak_open_model_streams": peak,
        "wall_s": round(wall, 2),
        "slowest_stream_s": round(max(o["s"] for o in out), 2),
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else STREAMS
    print(json.dumps({"default_backlog_5": measure(n, backlog=5), "ours": measure(n)}, indent=1))
