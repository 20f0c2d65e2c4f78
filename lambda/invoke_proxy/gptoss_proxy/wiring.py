"""Builds the proxy service from the environment, with structured logs and EMF token metrics."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Mapping

from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings

METRIC_NAMESPACE = "GptOssPlatform"


def emit(record: dict) -> None:
    """One JSON line per request (never prompt or completion text) that is also CloudWatch Embedded Metric
    Format: Requests by Status and ColdStart for every request, token counts by Model (and Consumer)."""
    directives = [
        {"Namespace": METRIC_NAMESPACE, "Dimensions": [["Status"]], "Metrics": [{"Name": "Requests", "Unit": "Count"}]},
        {"Namespace": METRIC_NAMESPACE, "Dimensions": [[]], "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]},
    ]
    line = {
        "level": "INFO",
        "message": "request",
        **record,
        "Status": str(record.get("status", "unknown")),
        "Requests": 1,
        "ColdStart": 1 if record.get("cold_start") else 0,
    }
    if "prompt_tokens" in record:
        directives.append(
            {
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Model"], ["Model", "Consumer"]],
                "Metrics": [
                    {"Name": "PromptTokens", "Unit": "Count"},
                    {"Name": "CompletionTokens", "Unit": "Count"},
                    {"Name": "ReasoningTokens", "Unit": "Count"},
                    {"Name": "GuardrailCalls", "Unit": "Count"},
                    {"Name": "GuardrailUnits", "Unit": "Count"},
                ],
            }
        )
        line.update(
            Model=record.get("model", "unknown"),
            Consumer=record.get("consumer", "unknown"),
            PromptTokens=record["prompt_tokens"],
            CompletionTokens=record["completion_tokens"],
            ReasoningTokens=record.get("reasoning_tokens", 0),
            GuardrailCalls=record.get("guardrail_calls", 0),
            GuardrailUnits=record.get("guardrail_units", 0),
        )
    if record.get("handoff"):  # seed 002: handoffs per route and consumer
        directives.append({"Namespace": METRIC_NAMESPACE, "Dimensions": [["Route"], ["Route", "Consumer"]], "Metrics": [{"Name": "Handoffs", "Unit": "Count"}]})
        line.update(Route=record.get("route", "unknown"), Consumer=record.get("consumer", "unknown"), Handoffs=1)
    line["_aws"] = {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def build_service(env: Mapping[str, str] | None = None, log=emit, sealer=None) -> ProxyService:
    """The service from ``GPTOSS_*`` variables. ``sealer``: reasoning sealing for the dev server and tests (a local
    stand-in); in the Lambda it is None and sealing is KMS with ``GPTOSS_REASONING_KEY_ID`` (core/sealed.py)."""
    from gptoss_proxy.adapters.aws import BedrockBackend, BedrockGuardrail, KmsSealer, SageMakerBackend

    settings = Settings.from_env(env if env is not None else os.environ)
    guardrail = BedrockGuardrail(settings.guardrail_id, settings.guardrail_version) if settings.guardrail_id else None
    timeout = settings.backend_timeout_seconds
    backends = {"sagemaker": SageMakerBackend(timeout), "bedrock": BedrockBackend(timeout)}
    if sealer is None and settings.reasoning_key_id:
        sealer = KmsSealer(settings.reasoning_key_id).sealer()
    return ProxyService(settings, backends, guardrail, log=log, sealer=sealer)
