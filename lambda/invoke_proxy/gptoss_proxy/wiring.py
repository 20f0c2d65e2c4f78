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
    """One JSON log line per request (never prompt or completion text), plus EMF token metrics."""
    line = {"level": "INFO", "message": "request", **record}
    if "prompt_tokens" in record:
        line["_aws"] = {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["Model"], ["Model", "Consumer"]],
                    "Metrics": [
                        {"Name": "PromptTokens", "Unit": "Count"},
                        {"Name": "CompletionTokens", "Unit": "Count"},
                        {"Name": "ReasoningTokens", "Unit": "Count"},
                        {"Name": "GuardrailCalls", "Unit": "Count"},
                    ],
                }
            ],
        }
        line.update(
            Model=record.get("model", "unknown"),
            Consumer=record.get("consumer", "unknown"),
            PromptTokens=record["prompt_tokens"],
            CompletionTokens=record["completion_tokens"],
            ReasoningTokens=record.get("reasoning_tokens", 0),
            GuardrailCalls=record.get("guardrail_calls", 0),
        )
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def build_service(env: Mapping[str, str] | None = None, log=emit) -> ProxyService:
    from gptoss_proxy.adapters.aws import BedrockBackend, BedrockGuardrail, SageMakerBackend

    settings = Settings.from_env(env if env is not None else os.environ)
    guardrail = BedrockGuardrail(settings.guardrail_id, settings.guardrail_version) if settings.guardrail_id else None
    timeout = settings.backend_timeout_seconds
    backends = {"sagemaker": SageMakerBackend(timeout), "bedrock": BedrockBackend(timeout)}
    return ProxyService(settings, backends, guardrail, log=log)
