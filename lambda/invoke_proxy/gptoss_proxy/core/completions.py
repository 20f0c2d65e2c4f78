"""OpenAI's legacy completions (``POST /v1/completions``): raw text in, raw text out, on SageMaker routes.

It is LlamaIndex ``OpenAILike``'s default and lm-evaluation-harness's ``local-completions``. The JumpStart LMI
container takes an OpenAI *completions* body (``prompt``) on /invocations in vLLM async mode (djl-serving
``engines/python/setup/djl_python/lmi_vllm/vllm_async_service.py``, ``preprocess_request``: ``"prompt" in
payload`` → vLLM ``CompletionRequest``, vllm/entrypoints/openai/completion/protocol.py); UNCONFIRMED(manual:lmi-completions) offline that the
JumpStart gpt-oss image runs that mode (the same assumption as core/harmony.py; examples/smoke_budget.py checks it
on a real endpoint). Bedrock's gpt-oss takes chat bodies (Bedrock user guide, "OpenAI models"): a Bedrock route
answers 400 naming ``/v1/chat/completions``; anything else there is UNCONFIRMED(manual:bedrock-completions).

Fields follow openai-python's ``CompletionCreateParamsBase`` (openai/types/completion_create_params.py). Honoured:
model, prompt (a string or an array of strings), max_tokens (default 16, OpenAI's and vLLM's), temperature, top_p,
stop, seed, frequency_penalty, presence_penalty, stream, stream_options, user (ignored). Refused with a 400 naming
the field: token-id prompts (the guardrail reads text), ``echo``, ``best_of``, ``suffix``, ``logprobs`` (they return
or depend on unguarded text), ``n`` > 1, and several prompts in one stream. The prompt goes through the INPUT
guardrail, the completion through the OUTPUT guardrail (batched while streaming, like chat content).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.request import client_metadata
from gptoss_proxy.core.settings import Route, Settings

#: openai-python 2.54 ``CompletionCreateParamsBase`` + ``stream`` (openai/types/completion_create_params.py)
OPENAI_FIELDS = {
    "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
    "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
}
REFUSED = {
    "echo": "echo returns the prompt as model output, which the output guardrail would have to check again",
    "best_of": "best_of generates candidates server-side that no guardrail sees",
    "suffix": "gpt-oss does not take a suffix",
    "logprobs": "log probabilities carry the raw tokens, which the output guardrail cannot mask",
    "logit_bias": "token biases are offered on /v1/chat/completions",
}
PASSED = ("temperature", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty")
#: OpenAI's (and vLLM's) default max_tokens for completions
DEFAULT_MAX_TOKENS = 16


def _bad(message: str, param: str | None, code: str = "invalid_value") -> ProxyError:
    return ProxyError(400, message, param=param, code=code)


@dataclass
class CompletionRequest:
    route: Route
    prompts: list[str]
    body: dict[str, Any]  # everything but the prompt, as the backend gets it
    stream: bool
    include_usage: bool


def validate(body: dict, settings: Settings) -> CompletionRequest:
    unknown = sorted(k for k in body if k not in OPENAI_FIELDS | {"client_metadata"})
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")
    client_metadata(body.get("client_metadata"))
    body = {k: v for k, v in body.items() if v is not None}
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    route = settings.routes.get(model)
    if route is None:
        raise ProxyError(404, f"The model '{model}' does not exist or you do not have access to it. Models here: {', '.join(sorted(settings.routes))}.",
                         param="model", code="model_not_found")
    if route.backend != "sagemaker":
        raise _bad(f"Invalid 'model': '{model}' is served by Amazon Bedrock, which takes chat requests only; use /v1/chat/completions "
                   "(or a SageMaker-served model for /v1/completions).", "model", "unsupported_model")
    asks = {"echo": body.get("echo") is True, "best_of": body.get("best_of", 1) != 1, "suffix": bool(body.get("suffix")),
            "logprobs": body.get("logprobs") is not None, "logit_bias": bool(body.get("logit_bias"))}
    for key, why in REFUSED.items():
        if asks[key]:
            raise _bad(f"Invalid '{key}': {why}.", key, "unsupported_parameter")
    if body.get("n", 1) != 1:
        raise _bad("Invalid 'n': one completion per prompt here.", "n", "unsupported_value")
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)
    elif isinstance(prompt, list) and prompt and all(isinstance(p, (int, list)) for p in prompt):
        raise _bad("Invalid 'prompt': token-id prompts are not accepted here (the guardrail reads text); send the text.", "prompt", "unsupported_value")
    else:
        raise _bad("Missing required parameter: 'prompt' (a string or an array of strings).", "prompt", "missing_required_parameter")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
    if stream and len(prompts) > 1:
        raise _bad("Invalid 'prompt': stream one prompt at a time.", "prompt", "unsupported_value")
    options = body.get("stream_options")
    if options is not None and (not stream or not isinstance(options, dict)):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    max_tokens = body.get("max_tokens", DEFAULT_MAX_TOKENS)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= settings.context_tokens:
        raise _bad(f"Invalid 'max_tokens': expected an integer from 1 to {settings.context_tokens}.", "max_tokens")
    if route.max_tokens:
        max_tokens = min(max_tokens, route.max_tokens)
    out = {k: body[k] for k in PASSED if k in body}
    out["max_tokens"] = max_tokens
    return CompletionRequest(route, prompts, out, stream, bool(options and options.get("include_usage")))


def backend_body(request: CompletionRequest, prompt: str, stream: bool) -> dict:
    body = {"prompt": prompt, **request.body, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def new_id() -> str:
    return f"cmpl-{uuid.uuid4().hex[:24]}"


def completion(completion_id: str, model: str, choices: list[dict], usage: dict | None) -> dict:
    return {"id": completion_id, "object": "text_completion", "created": int(time.time()), "model": model, "choices": choices,
            "usage": usage, "system_fingerprint": None}


def choice(index: int, text: str, finish: str | None) -> dict:
    return {"index": index, "text": text, "finish_reason": finish, "logprobs": None}


def text_of(raw: dict) -> tuple[str, str | None]:
    """The text and finish_reason of a backend completion (or of one streamed chunk)."""
    choices = raw.get("choices") if isinstance(raw, dict) else None
    if not isinstance(choices, list):
        raise ValueError("the backend answered without choices")
    if not choices:
        return "", None
    first = choices[0] if isinstance(choices[0], dict) else {}
    return first.get("text") or "", first.get("finish_reason")
