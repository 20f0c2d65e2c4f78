"""The registry of ``make verify`` checks: every check id a result can carry, with what it proves.

An ``UNCONFIRMED(verify:<id>)`` marker in code or README must name an id of ``CHECK_IDS``;
``UNCONFIRMED(manual:<id>)`` an id of the manual-steps table in docs/verify.md (tests/test_verify.py).
"""

from __future__ import annotations

from tools.verify import resources, routes

#: check id -> what a PASS proves (README "Deploying" lists them; a test keeps the two in step)
CHECK_IDS: dict[str, str] = {
    "endpoint": "each SageMaker endpoint is InService with the template's instance type, InferenceAmiVersion and image",
    "log-groups": "every log group of the region's stacks exists, encrypted with an enabled KMS key, with the template's retention",
    "alarm-topic": "CloudWatch publishes a test alarm to the alarm topic (alarm history: 'Successfully executed action')",
    "cloudtrail": "the audit trail is logging with no delivery error (audit_trail=true)",
    "route-chat": "POST /v1/chat/completions answers a chat.completion on every route, through the private API from the VPC (SigV4)",
    "route-stream": "a streamed chat completion arrives as chat.completion.chunk events ending with [DONE]",
    "route-tool-call": "a forced tool call comes back as tool_calls with JSON arguments",
    "route-blocked-input": "a prompt attack is answered with the guardrail policy's blocked-input message",
    "route-masked-output": "a PII value the policy anonymizes comes back as its {TYPE} placeholder, never in clear",
    "route-responses": "POST /v1/responses answers a response object with output_text",
    "health-deadline": "GET /health reports seconds_left within the function's timeout (the invocation deadline is read)",
    "lmi-logprobs": "the SageMaker container returns logprobs when asked",
    "lmi-json-schema": "the SageMaker container follows response_format json_schema",
    "bedrock-structured-output": "gpt-oss on Bedrock follows response_format json_schema",
    "tokenizer-in-container": "the network-isolated container answered, so it had its tokenizer encodings locally",
    "sourcevpce-runtime": "with the proxy role's aws:SourceVpce deny attached, every runtime call through our endpoints succeeds",
    "sourcevpce-cross-region": "the aws:SourceVpce deny does not match cross-region calls (STANDARD-tier guardrail profile, inference profiles)",
    "container-logs-no-prompt": "the endpoint containers' logs hold no probe prompt text",
    "verifier-cleanup": "the short-lived verifier's function, role and security group are gone",
}

RESOURCE_CHECKS = [resources.check_endpoint, resources.check_log_groups, resources.check_alarm_topic, resources.check_cloudtrail]
ROUTE_CHECKS = [routes.check_routes]


def checks(*, routes: bool = True) -> list:
    return RESOURCE_CHECKS + (ROUTE_CHECKS if routes else [])
