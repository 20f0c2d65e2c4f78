"""Call the platform with the OpenAI SDK, signing with SigV4 (run inside the VPC or a peered network).

    export OPENAI_BASE_URL=https://<api-id>.execute-api.us-east-1.amazonaws.com/prod/v1   # OpenAIBaseUrl output
    python examples/openai_sigv4.py
"""

from __future__ import annotations

import os

import httpx
from openai import OpenAI

from sigv4_httpx import SigV4

region = os.environ.get("AWS_REGION", "us-east-1")
client = OpenAI(
    base_url=os.environ["OPENAI_BASE_URL"],
    api_key="unused-requests-are-signed-with-sigv4",
    http_client=httpx.Client(auth=SigV4(region, os.environ.get("GPTOSS_SIGV4_SERVICE", "execute-api")), timeout=300),
)

response = client.chat.completions.create(
    model="gpt-oss-20b",
    messages=[{"role": "user", "content": "In one sentence: why run models in a private VPC?"}],
    reasoning_effort="low",
)
print("answered by:", response.model)
print("reasoning:", (response.choices[0].message.model_extra or {}).get("reasoning_content"))
print("answer:", response.choices[0].message.content)

for chunk in client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "Count to five."}], stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()
