"""A monthly cost estimate of one region: SageMaker endpoints at min and max capacity, the fixed costs of a
small deployment (interface endpoints per AZ, KMS keys, alarms, dashboards) and the per-request costs
(Lambda GB-seconds while a stream waits on the model, API Gateway requests, guardrail text units, Bedrock
tokens) at an assumed request volume.

Every price is a list price **not verified** against the AWS pricing pages (no network here): each carries
its source. ``region_estimate`` RETURNS the totals; ``RegionCost.render()`` is only the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from gptoss_constructs import catalog

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class ServicePrice:
    usd: float
    unit: str
    source: str


_UNVERIFIED = "list price as remembered (us-east-1), unverified"
#: USD list prices (us-east-1) of everything but SageMaker instances (those live in the catalog)
PRICES: Mapping[str, ServicePrice] = {
    "interface_endpoint_az_hour": ServicePrice(0.01, "per endpoint per AZ-hour", "https://aws.amazon.com/privatelink/pricing/ — " + _UNVERIFIED + " (issue 13: ~USD 0.01)"),
    "kms_key_month": ServicePrice(1.00, "per customer-managed key-month", "https://aws.amazon.com/kms/pricing/ — " + _UNVERIFIED),
    "alarm_month": ServicePrice(0.10, "per standard-resolution alarm-month", "https://aws.amazon.com/cloudwatch/pricing/ — " + _UNVERIFIED),
    "dashboard_month": ServicePrice(3.00, "per dashboard-month (the first 3 of an account are free)", "https://aws.amazon.com/cloudwatch/pricing/ — " + _UNVERIFIED),
    "lambda_gb_second_arm": ServicePrice(0.0000133334, "per GB-second (Arm)", "https://aws.amazon.com/lambda/pricing/ — " + _UNVERIFIED),
    "lambda_gb_second_x86": ServicePrice(0.0000166667, "per GB-second (x86)", "https://aws.amazon.com/lambda/pricing/ — " + _UNVERIFIED),
    "lambda_request": ServicePrice(0.20 / 1e6, "per request", "https://aws.amazon.com/lambda/pricing/ — " + _UNVERIFIED),
    "rest_api_request": ServicePrice(3.50 / 1e6, "per REST API request (first 333 M)", "https://aws.amazon.com/api-gateway/pricing/ — " + _UNVERIFIED),
    "guardrail_content_filter": ServicePrice(0.15 / 1000, "per text unit (content filters)", "https://aws.amazon.com/bedrock/pricing/ — third-party summaries quote USD 0.15 per 1,000 text units since Dec 2024; unverified"),
    "guardrail_denied_topics": ServicePrice(0.15 / 1000, "per text unit (denied topics)", "https://aws.amazon.com/bedrock/pricing/ — third-party summaries quote USD 0.15 per 1,000 text units; unverified"),
    "guardrail_pii": ServicePrice(0.10 / 1000, "per text unit (sensitive-information PII entities)", "https://aws.amazon.com/bedrock/pricing/ — third-party summaries quote USD 0.10 per 1,000 text units; unverified"),
    "guardrail_grounding": ServicePrice(0.10 / 1000, "per text unit (contextual grounding)", "https://aws.amazon.com/bedrock/pricing/ — " + _UNVERIFIED),
}
#: Bedrock on-demand USD per 1 M tokens (input, output)
BEDROCK_TOKEN_PRICES: Mapping[str, tuple[float, float, str]] = {
    "gpt-oss-20b": (0.07, 0.30, "https://aws.amazon.com/bedrock/pricing/ (OpenAI) — launch list price as remembered, unverified"),
    "gpt-oss-120b": (0.15, 0.60, "https://aws.amazon.com/bedrock/pricing/ (OpenAI) — launch list price as remembered, unverified"),
}
#: characters per token, to turn token assumptions into guardrail text units (1 text unit = 1,000 characters)
CHARS_PER_TOKEN = 4
#: characters per ApplyGuardrail text unit ("a text unit can contain up to 1000 characters", Bedrock pricing)
UNIT_CHARS = 1000
#: the proxy's default first streamed batch (its core/settings.py ``guardrail_first_batch_chars``)
FIRST_BATCH_CHARS = 48


def guardrail_units_per_response(prompt_chars: int, field_chars: Sequence[int], *, streamed: bool = True,
                                 first_batch_chars: int = FIRST_BATCH_CHARS) -> int:
    """ApplyGuardrail text units of one response: the prompt (INPUT) plus each output field (OUTPUT: reasoning,
    answer), ceil(chars / 1,000) each. A streamed field with a first batch (``first_batch_chars`` > 0, for a
    fast first token) is checked as that batch plus the rest in 1,000-character batches: one more unit per field
    whenever the field is longer than the first batch. Example: a 1,566-character answer (566 reasoning +
    1,000 text) after a short prompt is 1 + 1 + 1 = 3 units unstreamed or with the first batch off, 1 + 2 + 2 = 5
    streamed with it."""
    units = math.ceil(prompt_chars / UNIT_CHARS)
    for chars in field_chars:
        if streamed and first_batch_chars and chars > first_batch_chars:
            units += 1 + math.ceil((chars - first_batch_chars) / UNIT_CHARS)
        else:
            units += math.ceil(chars / UNIT_CHARS)
    return units


@dataclass(frozen=True)
class CostAssumptions:
    """Request volume and size (context keys ``cost_requests_per_month``, ``cost_prompt_tokens``,
    ``cost_answer_tokens``, ``cost_seconds_per_request``)."""

    requests_per_month: int = 100_000
    prompt_tokens: int = 1_000
    answer_tokens: int = 500
    seconds_per_request: int = 20  # the proxy's Lambda runs (and bills) while the stream waits on the model


@dataclass(frozen=True)
class EndpointCost:
    model: str
    instance_type: str
    min_instances: int
    max_instances: int
    usd_per_hour: float | None
    source: str

    def monthly(self, instances: int) -> float | None:
        return None if self.usd_per_hour is None else round(instances * self.usd_per_hour * HOURS_PER_MONTH, 2)


def estimate(endpoints: Sequence[tuple[str, str, int, int]]) -> list[EndpointCost]:
    """``(model, instance_type, min, max)`` per endpoint → costs (price None when the table lacks the type)."""
    out = []
    for model, itype, low, high in endpoints:
        p = catalog.price(itype)
        out.append(EndpointCost(model, itype, low, high, p.usd_per_hour if p else None, p.source if p else "no price in the table"))
    return out


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    monthly_low: float | None  # None: no price known
    monthly_high: float | None
    source: str


@dataclass(frozen=True)
class RegionCost:
    region: str
    lines: tuple[CostLine, ...]
    assumptions: CostAssumptions

    @property
    def monthly_low(self) -> float:
        return round(sum(line.monthly_low or 0 for line in self.lines), 2)

    @property
    def monthly_high(self) -> float:
        return round(sum(line.monthly_high or 0 for line in self.lines), 2)

    @property
    def unpriced(self) -> list[str]:
        return [line.item for line in self.lines if line.monthly_low is None or line.monthly_high is None]

    def render(self) -> str:
        a = self.assumptions
        fmt = lambda v: "n/a" if v is None else f"${v:,.2f}"  # noqa: E731
        lines = [
            f"# Cost estimate — {self.region}",
            "",
            "**Every price is unverified** (no network where this was built): check each against its source "
            "before budgeting. " + catalog.price_table_note(),
            "",
            f"Assumptions (context keys): {a.requests_per_month:,} requests/month (`cost_requests_per_month`), "
            f"{a.prompt_tokens:,} prompt tokens (`cost_prompt_tokens`) and {a.answer_tokens:,} answer tokens "
            f"(`cost_answer_tokens`) per request, {a.seconds_per_request} s of proxy time per request "
            f"(`cost_seconds_per_request`), requests spread evenly over the region's routes, "
            f"{CHARS_PER_TOKEN} characters per token. {HOURS_PER_MONTH} h/month.",
            "",
            "| Item | Quantity | Monthly at min | Monthly at max | Price source |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in self.lines:
            lines.append(f"| {c.item} | {c.quantity} | {fmt(c.monthly_low)} | {fmt(c.monthly_high)} | {c.source} |")
        lines += [f"| **Total** | | **${self.monthly_low:,.2f}** | **${self.monthly_high:,.2f}** | |", ""]
        lines.append(
            "Not included: data processed by interface endpoints (per GB), KMS requests, CloudWatch Logs ingestion "
            "and storage (proxy, API access and flow logs), S3, data transfer, and the free tiers."
        )
        return "\n".join(lines) + "\n"


def _monthly(price_key: str, quantity: float) -> float:
    return round(PRICES[price_key].usd * quantity, 2)


def region_estimate(
    region: str,
    *,
    endpoints: Sequence[EndpointCost] = (),
    bedrock_models: Sequence[str] = (),
    routes: int = 1,
    interface_endpoints: int = 0,
    availability_zones: int = 2,
    kms_keys: int = 0,
    alarms: int = 0,
    dashboards: int = 0,
    lambda_memory_mb: int = 1024,
    lambda_arm: bool = True,
    rest_api: bool = True,
    guardrail_policies: Sequence[str] = (),
    guardrail_first_batch_chars: int = FIRST_BATCH_CHARS,
    assumptions: CostAssumptions = CostAssumptions(),
) -> RegionCost:
    """The region's monthly cost lines and totals at min and max endpoint capacity.

    :param routes: how many routes the proxy serves (requests are spread evenly; Bedrock routes pay tokens).
    :param guardrail_policies: the enabled billed policy types: ``content``, ``topics``, ``pii``, ``grounding``.
    :param guardrail_first_batch_chars: the proxy's first streamed batch (0 = off); requests are counted as
        streamed with two output fields (reasoning and answer, split evenly): ``guardrail_units_per_response``.
    """
    a = assumptions
    out: list[CostLine] = []
    for e in endpoints:
        out.append(CostLine(
            f"SageMaker {e.model} on {e.instance_type}", f"{e.min_instances} to {e.max_instances} instance(s)",
            e.monthly(e.min_instances), e.monthly(e.max_instances), e.source,
        ))
    endpoint_hours = interface_endpoints * availability_zones * HOURS_PER_MONTH
    for key, item, qty, value in (
        ("interface_endpoint_az_hour", "VPC interface endpoints", f"{interface_endpoints} endpoints × {availability_zones} AZs", endpoint_hours),
        ("kms_key_month", "KMS customer-managed keys", f"{kms_keys} keys", kms_keys),
        ("alarm_month", "CloudWatch alarms", f"{alarms} alarms", alarms),
        ("dashboard_month", "CloudWatch dashboards", f"{dashboards} dashboard(s)", dashboards),
    ):
        if value:
            cost = _monthly(key, value)
            out.append(CostLine(item, qty, cost, cost, PRICES[key].source))

    n = a.requests_per_month
    gb_seconds = lambda_memory_mb / 1024 * a.seconds_per_request * n
    lam = round(_monthly("lambda_gb_second_arm" if lambda_arm else "lambda_gb_second_x86", gb_seconds) + _monthly("lambda_request", n), 2)
    out.append(CostLine("Lambda (invoke proxy)", f"{gb_seconds:,.0f} GB-s, {n:,} requests", lam, lam, PRICES["lambda_gb_second_arm" if lambda_arm else "lambda_gb_second_x86"].source))
    if rest_api:
        api = _monthly("rest_api_request", n)
        out.append(CostLine("API Gateway (private REST API)", f"{n:,} requests", api, api, PRICES["rest_api_request"].source))
    if guardrail_policies:
        answer_chars = a.answer_tokens * CHARS_PER_TOKEN
        units_per_request = guardrail_units_per_response(
            a.prompt_tokens * CHARS_PER_TOKEN, (answer_chars // 2, answer_chars - answer_chars // 2), first_batch_chars=guardrail_first_batch_chars
        )
        units = units_per_request * n
        keys = {"content": "guardrail_content_filter", "topics": "guardrail_denied_topics", "pii": "guardrail_pii", "grounding": "guardrail_grounding"}
        rate = sum(PRICES[keys[p]].usd for p in guardrail_policies)
        g = round(rate * units, 2)
        first = f"first batch {guardrail_first_batch_chars} chars" if guardrail_first_batch_chars else "first batch off"
        out.append(CostLine("Bedrock Guardrails (input + output)", f"{units_per_request} units/response ({first}) × {n:,} = {units:,} text units × {', '.join(guardrail_policies)}",
                            g, g, PRICES[keys[guardrail_policies[0]]].source))
    share = n / max(routes, 1)
    for model in bedrock_models:
        price_in, price_out, source = BEDROCK_TOKEN_PRICES.get(model, (None, None, "no price in the table"))
        if price_in is None:
            out.append(CostLine(f"Bedrock {model} tokens", f"{share:,.0f} requests", None, None, source))
            continue
        tokens = round(share * (a.prompt_tokens * price_in + a.answer_tokens * price_out) / 1e6, 2)
        out.append(CostLine(f"Bedrock {model} tokens", f"{share:,.0f} requests × ({a.prompt_tokens} in + {a.answer_tokens} out)", tokens, tokens, source))
    return RegionCost(region, tuple(out), a)
