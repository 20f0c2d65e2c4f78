"""Fuzz: >= 500 malformed or random requests. Every answer is a 4xx with an OpenAI error body; nothing raises
and no backend is ever called (no request reaches a model)."""

from __future__ import annotations

import json
import random
import string

import pytest

from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings

ROUTES = {"gpt-oss-20b": {"backend": "sagemaker", "endpoint_name": "ep"}}
N = 600


class NeverCalled:
    def complete(self, *a):
        raise AssertionError("a malformed request reached the backend")

    stream = complete


def _junk(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "none", "list", "dict"] if depth < 3 else ["str", "int", "none"]
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice(string.printable + "é字\x00") for _ in range(rng.randint(0, 12)))
    if kind == "int":
        return rng.choice([0, -1, 1, 2**70, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.5, -3.2, 1e308, float("inf")]) if rng.random() < 0.9 else 2.5
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["role", "content", "model", "x", "type", "function"]): _junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _case(rng: random.Random) -> bytes:
    """A request with at least one defect, from several families."""
    family = rng.randrange(8)
    valid = {"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "hi"}]}
    if family == 0:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if family == 1:  # random JSON value that is not an object
        return json.dumps(_junk(rng)).encode() if rng.random() < 0.5 else b"[1, 2, 3]"
    if family == 2:  # truncated valid JSON
        text = json.dumps(valid)
        return text[: rng.randint(0, len(text) - 1)].encode()
    body = dict(valid)
    if family == 3:  # a field of the wrong type or out of range
        invalid = {
            "temperature": ["hot", -5, 10**9, [1]], "top_p": [2, -1, "x"], "max_tokens": [0, -5, 10**9, 3.5, "9"],
            "n": [129, 0, "1"], "stream": ["yes", 1, None if False else "true"], "stop": [[1] * 9, 5, {"a": 1}],
            "seed": ["seed", 3.5, [1]], "reasoning_effort": ["extreme", 3, "maximal"], "tools": [3.5, "web", [{"type": "web"}]],
            "response_format": [{"type": "xml"}, "json", 1], "tool_choice": [-5, "always", {"a": 1}],
        }
        key = rng.choice(sorted(invalid))
        body[key] = rng.choice(invalid[key])
    elif family == 4:  # unknown field
        body["".join(rng.choice(string.ascii_lowercase) for _ in range(6)) + "_x"] = _junk(rng)
    elif family == 5:  # broken messages
        body["messages"] = rng.choice([[], "hi", [None], [{"role": "robot", "content": "x"}], [{"role": "user"}], [{"role": "tool", "content": "x"}], [{"content": _junk(rng, 2)}]])
    elif family == 6:  # unknown or missing model
        if rng.random() < 0.5:
            body.pop("model")
        else:
            body["model"] = _junk(rng) if rng.random() < 0.5 else "gpt-oss-999b"
    else:  # oversized body or context
        return b'{"model": "gpt-oss-20b", "messages": [{"role": "user", "content": "' + b"a" * rng.choice([1_100_000, 600_000]) + b'"}]}'
    return json.dumps(body, allow_nan=True).encode()


def test_random_malformed_requests_get_4xx_openai_errors():
    settings = Settings.from_env({"GPTOSS_ROUTES": json.dumps(ROUTES)})
    service = ProxyService(settings, {"sagemaker": NeverCalled(), "bedrock": NeverCalled()})
    rng = random.Random(20261124)
    statuses = {}
    for i in range(N):
        raw = _case(rng)
        method, path = ("POST", "/v1/chat/completions") if i % 50 else (rng.choice(["GET", "PUT", "DELETE"]), rng.choice(["/v1/chat/completions", "/v2/x", "/"]))
        response = service.handle(method, path, {}, raw)
        assert 400 <= response.status < 500, (raw[:200], response.status, response.body)
        error = json.loads(response.body)["error"]
        assert set(error) == {"message", "type", "param", "code"} and isinstance(error["message"], str) and error["message"]
        statuses[response.status] = statuses.get(response.status, 0) + 1
    assert sum(statuses.values()) == N and {400, 404, 413} <= set(statuses)


@pytest.mark.parametrize("seed", range(3))
def test_random_requests_over_http(proxy_url, seed):
    from tests.proxy.conftest import post

    rng = random.Random(seed)
    for _ in range(20):
        status, _, body = post(f"{proxy_url}/v1/chat/completions", _case(rng))
        assert 400 <= status < 500 and "error" in json.loads(body)
