"""Runs in its own venv (.venv-agents: openai-agents and pydantic-ai need openai 3.x, the main venv pins 2.54):
structured output through the proxy with the openai-agents SDK (`output_type`) and pydantic-ai (native and
tool output). Prints one JSON object of results; imports nothing from this repository.

    .venv-agents/bin/python tests/proxy/agents_client.py http://127.0.0.1:8080/v1 gpt-oss-20b [gpt-oss-120b ...]
"""

from __future__ import annotations

import json
import sys

from pydantic import BaseModel, Field


class Reading(BaseModel):
    hour: int = Field(ge=0, le=23)
    temperature: float


class Forecast(BaseModel):
    city: str
    readings: list[Reading] = Field(min_length=2)
    sunny: bool


def openai_agents(base_url: str, model: str) -> dict:
    from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # no trace export: nothing leaves the machine
    llm = OpenAIChatCompletionsModel(model=model, openai_client=AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0))
    result = Runner.run_sync(Agent(name="forecaster", instructions="Give a forecast.", model=llm, output_type=Forecast), "Forecast for Paris")
    return {"type": type(result.final_output).__name__, "value": result.final_output.model_dump()}


def pydantic_ai(base_url: str, model: str, mode: str) -> dict:
    from pydantic_ai import Agent, NativeOutput, ToolOutput
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    llm = OpenAIChatModel(model, provider=OpenAIProvider(base_url=base_url, api_key="unused"))
    output = NativeOutput(Forecast) if mode == "native" else ToolOutput(Forecast)
    result = Agent(llm, output_type=output).run_sync("Forecast for Paris")
    return {"type": type(result.output).__name__, "value": result.output.model_dump()}


def main() -> None:
    base_url, models = sys.argv[1], sys.argv[2:]
    out = {}
    for model in models:
        for name, run in (("openai_agents", lambda: openai_agents(base_url, model)),
                          ("pydantic_ai_native", lambda: pydantic_ai(base_url, model, "native")),
                          ("pydantic_ai_tool", lambda: pydantic_ai(base_url, model, "tool"))):
            try:
                out[f"{model}/{name}"] = run()
            except Exception as err:  # reported, so the test shows which library failed and how
                out[f"{model}/{name}"] = {"error": f"{err.__class__.__name__}: {err}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
