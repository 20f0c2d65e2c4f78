"""Issue 17 item 6 with the openai-agents SDK and its default model, `OpenAIResponsesModel` (openai-agents 0.24
`agents/models/openai_provider.py` resolves a bare model name to it unless `set_default_openai_api("chat_completions")`
is called; `agents/models/openai_responses.py` builds the `client.responses.create(...)` call, sending `include`,
`instructions`, `tools`, `tool_choice`, `text` and, when streaming, reading `response.completed` for the final
response). openai-agents needs openai 3.x, the main venv pins 2.54: it runs from `.venv-agents`
(requirements-agents.txt; `make setup` / `make test` install it) as a subprocess, tests/proxy/agents_responses_client.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS_PY = ROOT / ".venv-agents" / "bin" / "python"
MODELS = ["gpt-oss-20b", "gpt-oss-120b"]


@pytest.mark.skipif(not AGENTS_PY.exists(), reason=".venv-agents is missing: make setup installs it")
def test_openai_agents_default_model_runs_tools_streams_and_output_type(proxy_url, logs):
    before = len(logs)
    run = subprocess.run([str(AGENTS_PY), str(ROOT / "tests" / "proxy" / "agents_responses_client.py"), f"{proxy_url}/v1", *MODELS],
                         capture_output=True, text=True, timeout=300, check=True)
    results = json.loads(run.stdout.strip().splitlines()[-1])
    for model in MODELS:
        assert results[f"{model}/model_class"] == "OpenAIResponsesModel"
        assert results[f"{model}/tools"] == {"final": "The tool said: sunny in Paris"}
        streamed = results[f"{model}/tools_streamed"]
        assert streamed["final"] == "The tool said: sunny in Paris" and streamed["completed_events"] == 2 and streamed["text_deltas"] >= 1
        assert results[f"{model}/output_type"]["type"] == "City"
    assert results["tool_calls"] == ["Paris"] * 4  # the agent ran the function tool in every tool run
    records = logs[before:]
    # 4 tool runs × 2 model turns + 2 output_type runs, all on /v1/responses, half of the tool turns streamed
    assert [r["path"] for r in records] == ["/v1/responses"] * 10 and sum(r["stream"] for r in records) == 4
    assert all(r["status"] == 200 and "error" not in r for r in records)
