"""Runs in its own venv (.venv-agents: openai-agents needs openai 3.x, the main venv pins 2.54): the openai-agents
SDK with its DEFAULT model — OpenAIResponsesModel, i.e. `POST /v1/responses` — through the proxy: a function-tool
loop without and with streaming, and `output_type`. Prints one JSON object of results; imports nothing from this
repository.

    .venv-agents/bin/python tests/proxy/agents_responses_client.py http://127.0.0.1:8080/v1 gpt-oss-20b [gpt-oss-120b ...]
"""

from __future__ import annotations

import asyncio
import json
import sys

from pydantic import BaseModel


class City(BaseModel):
    name: str
    population: int


async def run_all(base_url: str, models: list[str]) -> dict:
    from agents import Agent, Runner, function_tool, set_default_openai_client, set_tracing_disabled
    from agents.models.openai_provider import OpenAIProvider
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # no trace export: nothing leaves the machine
    set_default_openai_client(AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0), use_for_tracing=False)
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"sunny in {city}"

    async def tools(agent) -> dict:
        return {"final": (await Runner.run(agent, "What is the weather in Paris?")).final_output}

    async def streamed(agent) -> dict:
        run = Runner.run_streamed(agent, "What is the weather in Paris?")
        raw = [event.data.type async for event in run.stream_events() if event.type == "raw_response_event"]
        return {"final": run.final_output, "completed_events": raw.count("response.completed"), "text_deltas": raw.count("response.output_text.delta")}

    async def structured(model: str) -> dict:
        result = await Runner.run(Agent(name="c", model=model, output_type=City), "A city")
        return {"final": result.final_output.model_dump(), "type": type(result.final_output).__name__}

    out: dict = {}
    for model in models:
        # what a bare model name resolves to: the SDK's default, OpenAIResponsesModel
        out[f"{model}/model_class"] = type(OpenAIProvider().get_model(model)).__name__
        agent = Agent(name="weather", instructions="Use the tool.", model=model, tools=[get_weather])
        for name, run in (("tools", lambda: tools(agent)), ("tools_streamed", lambda: streamed(agent)), ("output_type", lambda: structured(model))):
            try:
                out[f"{model}/{name}"] = await run()
            except Exception as err:  # reported, so the test shows which run failed and how
                out[f"{model}/{name}"] = {"error": f"{err.__class__.__name__}: {err}"}
    out["tool_calls"] = calls
    return out


def main() -> None:
    print(json.dumps(asyncio.run(run_all(sys.argv[1], sys.argv[2:]))))


if __name__ == "__main__":
    main()
