"""Strands Agents with one tool, through the proxy (OpenAI-compatible model provider)."""

from __future__ import annotations


def test_strands_agent_calls_a_tool_through_the_proxy(proxy_url):
    from strands import Agent, tool
    from strands.models.openai import OpenAIModel

    calls = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        calls.append(city)
        return f"18C and sunny in {city}"

    model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-20b")
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    result = agent("What is the weather in Paris?")
    assert calls == ["Paris"]
    assert "The tool said: 18C and sunny in Paris" in str(result)
