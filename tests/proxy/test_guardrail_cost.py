"""Issue 23 item 8: the guardrail text units of a response, with and without the small first streamed batch, in
the cost estimate. A text unit holds up to 1,000 characters (aws.amazon.com/bedrock/pricing, Guardrails: "a text
unit can contain up to 1000 characters"); the proxy counts units per text block (its core/guard.py
``text_units``), and the emulator's ApplyGuardrail counts the same way, so the formula is checked against what the
proxy actually sends."""

from __future__ import annotations

import math

import pytest

from gptoss_constructs import cost


def test_the_issue_example_costs_two_more_units_with_the_first_batch():
    assert cost.guardrail_units_per_response(200, (566, 1000)) == 5
    assert cost.guardrail_units_per_response(200, (566, 1000), first_batch_chars=0) == 3
    assert cost.guardrail_units_per_response(200, (566, 1000), streamed=False) == 3


def test_the_default_first_batch_is_the_proxys():
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.guard import FIRST_BATCH_CHARS
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

    assert cost.FIRST_BATCH_CHARS == FIRST_BATCH_CHARS == Settings.__dataclass_fields__["guardrail_first_batch_chars"].default


@pytest.mark.parametrize("first_batch", [48, 0])
def test_the_estimate_prices_the_units_per_response(first_batch):
    a = cost.CostAssumptions(requests_per_month=1_000_000, prompt_tokens=50, answer_tokens=400)
    region = cost.region_estimate("us-east-1", guardrail_policies=("content", "topics", "pii"), guardrail_first_batch_chars=first_batch, assumptions=a)
    (line,) = [x for x in region.lines if x.item.startswith("Bedrock Guardrails")]
    per_response = 1 + 2 * (2 if first_batch else 1)  # 200-char prompt; two 800-character fields
    rate = (0.15 + 0.15 + 0.10) / 1000
    assert line.quantity.startswith(f"{per_response} units/response")
    assert line.monthly_low == round(per_response * 1_000_000 * rate, 2)


def test_the_streamed_units_match_what_the_proxy_sends(proxy_url, stats):
    """A streamed answer through the proxy and the emulated guardrail: the OUTPUT units it paid equal the formula."""
    import openai

    client = openai.OpenAI(base_url=f"{proxy_url}/v1", api_key="x", max_retries=0)
    stream = client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[long:1000]] hi"}], stream=True)
    reasoning = content = ""
    for chunk in stream:
        if chunk.choices:
            reasoning += (chunk.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
            content += chunk.choices[0].delta.content or ""
    calls = stats()["guardrail"]
    out_units = sum(c["units"] for c in calls if c["source"] == "OUTPUT")
    in_units = sum(c["units"] for c in calls if c["source"] == "INPUT")
    assert in_units + out_units == cost.guardrail_units_per_response(sum(c["chars"] for c in calls if c["source"] == "INPUT"), (len(reasoning), len(content)))
    assert out_units == (1 + math.ceil((len(reasoning) - 48) / 1000)) + (1 + math.ceil((len(content) - 48) / 1000))
