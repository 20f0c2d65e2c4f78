"""A cost estimate of one region's SageMaker endpoints at min and max capacity (from the catalog's price table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from gptoss_constructs import catalog

HOURS_PER_MONTH = 730


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


def render(region: str, costs: Sequence[EndpointCost], bedrock_models: Sequence[str] = ()) -> str:
    lines = [
        f"# Cost estimate — {region}",
        "",
        "**Check every price against https://aws.amazon.com/sagemaker/pricing/ before budgeting:** " + catalog.price_table_note(),
        "",
        f"Instances × price × {HOURS_PER_MONTH} h/month. Minimum 0 (scale-to-zero) means no instance cost while idle.",
        "",
        "| Model | Instance type | USD/h | Min instances | Monthly at min | Max instances | Monthly at max | Price source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    total_low = total_high = 0.0
    for c in costs:
        low, high = c.monthly(c.min_instances), c.monthly(c.max_instances)
        total_low += low or 0
        total_high += high or 0
        fmt = lambda v: "n/a" if v is None else f"${v:,.2f}"  # noqa: E731
        lines.append(f"| {c.model} | {c.instance_type} | {fmt(c.usd_per_hour)} | {c.min_instances} | {fmt(low)} | {c.max_instances} | {fmt(high)} | {c.source} |")
    lines += [f"| **Total** | | | | **${total_low:,.2f}** | | **${total_high:,.2f}** | |", ""]
    if bedrock_models:
        lines.append(f"Bedrock models ({', '.join(bedrock_models)}) are billed per token, not per hour; not included.")
    lines.append("Not included: VPC interface endpoints (~USD 0.01/h per AZ each), Lambda, API Gateway, Bedrock Guardrails text units, KMS, CloudWatch.")
    return "\n".join(lines) + "\n"
