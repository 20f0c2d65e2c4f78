"""Structured output with the openai-agents SDK (`output_type`, chat-completions model) and pydantic-ai (native
and tool output) through the proxy. Both need openai 3.x, which conflicts with the openai 2.54 pinned here, so
they run from `.venv-agents` (requirements-agents.txt; `make setup` / `make test` install it) as a subprocess
(tests/proxy/agents_client.py) against the session's proxy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS_PY = ROOT / ".venv-agents" / "bin" / "python"


@pytest.mark.skipif(not AGENTS_PY.exists(), reason=".venv-agents is missing: make setup installs it")
def test_openai_agents_and_pydantic_ai_get_the_pydantic_object(proxy_url, stats):
    models = ["gpt-oss-20b", "gpt-oss-120b"]
    run = subprocess.run([str(AGENTS_PY), str(ROOT / "tests" / "proxy" / "agents_client.py"), f"{proxy_url}/v1", *models],
                         capture_output=True, text=True, timeout=300, check=True)
    results = json.loads(run.stdout.strip().splitlines()[-1])
    expected = {f"{m}/{lib}": "Forecast" for m in models for lib in ("openai_agents", "pydantic_ai_native", "pydantic_ai_tool")}
    assert {name: r.get("type", r.get("error")) for name, r in results.items()} == expected
    assert all(len(r["value"]["readings"]) >= 2 for r in results.values())
    formats = [b["body"].get("response_format", {}).get("type") for b in stats()["model_requests"]]
    assert formats.count("json_schema") == 4  # openai-agents and pydantic-ai native asked for a schema; tool output used a tool
