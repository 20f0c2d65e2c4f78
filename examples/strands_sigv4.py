"""A Strands agent with one tool, using the platform as its OpenAI-compatible model (SigV4-signed).

    export OPENAI_BASE_URL=https://<api-id>.execute-api.us-east-1.amazonaws.com/prod/v1
    python examples/strands_sigv4.py
"""

from __future__ import annotations

import os

import httpx
from strands import Agent, tool
from strands.models.openai import OpenAIModel

from sigv4_httpx import SigV4


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


region = os.environ.get("AWS_REGION", "us-east-1")
model = OpenAIModel(
    client_args={
        "base_url": os.environ["OPENAI_BASE_URL"],
        "api_key": "unused-requests-are-signed-with-sigv4",
        "http_client": httpx.AsyncClient(auth=SigV4(region), timeout=300),
    },
    model_id="gpt-oss-20b",
)
agent = Agent(model=model, tools=[word_count])
print(agent("How many words are in 'private models on AWS with guardrails'?"))
