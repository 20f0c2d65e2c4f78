"""Smoke test of exact budget forcing (``budget_mode: "harmony"``) against a real gpt-oss SageMaker endpoint.

What it confirms, which cannot be confirmed offline (see lambda/invoke_proxy/gptoss_proxy/core/harmony.py):
the endpoint's container accepts an OpenAI *completions* body (``prompt``) on /invocations, reads the special
tokens written in the prompt as harmony tokens, honours ``max_tokens`` / ``stop_token_ids`` /
``skip_special_tokens``, and counts ``usage``. Run it once per container image before turning the mode on:

    AWS_REGION=us-east-1 .venv/bin/python examples/smoke_budget.py <endpoint-name>

It exits 0 and prints OK when: (1) an analysis opened by the proxy stops at a 16-token budget with
``finish_reason: length`` and ``usage.completion_tokens == 16``; (2) after the forced transition to the final
channel the model answers in plain text (no harmony tokens, no "analysis" header).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambda" / "invoke_proxy"))

from gptoss_proxy.core import harmony  # noqa: E402

BUDGET = 16
QUESTION = "What is 17 * 23? Think it through, then answer with the number."


def check(client, endpoint: str) -> list[str]:
    """The failed checks (empty when the endpoint supports exact forcing); ``client`` is a sagemaker-runtime client."""
    def call(body: dict) -> dict:
        response = client.invoke_endpoint(EndpointName=endpoint, Body=json.dumps(body).encode(), ContentType="application/json", Accept="application/json")
        return json.loads(response["Body"].read())

    failures = []
    prompt = harmony.render({"messages": [{"role": "user", "content": QUESTION}], "reasoning_effort": "high"})
    first = call(harmony.completion_body(prompt, BUDGET, False, analysis=True))
    choice, usage = (first.get("choices") or [{}])[0], first.get("usage") or {}
    analysis = choice.get("text") or ""
    if choice.get("finish_reason") != "length":
        failures.append(f"analysis did not stop at the budget: finish_reason {choice.get('finish_reason')!r}")
    if usage.get("completion_tokens") != BUDGET:
        failures.append(f"usage.completion_tokens is {usage.get('completion_tokens')!r}, expected {BUDGET}")
    if not analysis or "<|" in analysis:
        failures.append(f"analysis text is empty or holds harmony tokens: {analysis[:80]!r}")
    final = call(harmony.completion_body(prompt + analysis + harmony.FORCE_FINAL, 256, False, analysis=False))
    answer = ((final.get("choices") or [{}])[0].get("text") or "")
    if not answer.strip() or "<|" in answer or answer.lstrip().startswith("analysis"):
        failures.append(f"the final channel did not answer in plain text: {answer[:80]!r}")
    return failures


def main(argv: list[str]) -> int:
    import boto3

    if len(argv) != 1:
        print(__doc__)
        return 2
    failures = check(boto3.client("sagemaker-runtime"), argv[0])
    print("OK: exact budget forcing works on this endpoint" if not failures else "FAILED:\n- " + "\n- ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
