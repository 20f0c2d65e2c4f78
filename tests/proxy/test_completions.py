"""Issue 23 item 5: ``POST /v1/completions`` (legacy) with the real openai SDK (``client.completions.create``, the
call LlamaIndex ``OpenAILike`` and lm-evaluation-harness ``local-completions`` make) against the emulated SageMaker
container's completions interface; guardrails on the prompt and the completion; Bedrock routes refused with a
400 naming /v1/chat/completions (Bedrock user guide, "OpenAI models": gpt-oss takes chat bodies)."""

from __future__ import annotations

import openai
import pytest

from tests.proxy.conftest import post


def _sent(stats) -> dict:
    return stats()["model_requests"][-1]["body"]


class TestCompletions:
    def test_a_prompt_is_completed_through_the_container(self, client, stats):
        r = client.completions.create(model="gpt-oss-20b", prompt="Once upon a time", max_tokens=50, temperature=0.2, stop=["\n\n"])
        assert r.object == "text_completion" and r.choices[0].text == "Echo: Once upon a time" and r.choices[0].finish_reason == "stop"
        assert r.usage.completion_tokens > 0 and r.model == "gpt-oss-20b"
        assert _sent(stats) == {"prompt": "Once upon a time", "temperature": 0.2, "stop": ["\n\n"], "max_tokens": 50, "stream": False}

    def test_the_default_max_tokens_is_openais_16(self, client, stats):
        r = client.completions.create(model="gpt-oss-20b", prompt="[[long:200]] x")
        assert _sent(stats)["max_tokens"] == 16 and r.choices[0].finish_reason == "length" and len(r.choices[0].text) == 64

    def test_several_prompts_get_one_choice_each(self, client):
        r = client.completions.create(model="gpt-oss-20b", prompt=["a", "b"], max_tokens=20)
        assert [(c.index, c.text) for c in r.choices] == [(0, "Echo: a"), (1, "Echo: b")]

    def test_streaming_with_usage(self, client):
        stream = client.completions.create(model="gpt-oss-20b", prompt="[[long:3000]] x", max_tokens=2000, stream=True, stream_options={"include_usage": True})
        parts = list(stream)
        text = "".join(p.choices[0].text for p in parts if p.choices)
        assert len(text) == 3000 and [p.choices[0].finish_reason for p in parts if p.choices and p.choices[0].finish_reason] == ["stop"]
        assert parts[-1].usage.completion_tokens == 750

    def test_the_prompt_and_the_completion_pass_the_guardrail(self, client, stats):
        r = client.completions.create(model="gpt-oss-20b", prompt="[[email]] contact bob@example.com", max_tokens=50)
        assert r.choices[0].text == "Write to {EMAIL} for details."
        assert "bob@example.com" not in _sent(stats)["prompt"] and "{EMAIL}" in _sent(stats)["prompt"]
        sources = [c["source"] for c in stats()["guardrail"]]
        assert sources == ["INPUT", "OUTPUT"]

    def test_blocked_output_ends_with_content_filter(self, client):
        r = client.completions.create(model="gpt-oss-20b", prompt="[[forbidden]] x", max_tokens=50)
        assert r.choices[0].finish_reason == "content_filter" and "forbidden" not in r.choices[0].text
        chunks = list(client.completions.create(model="gpt-oss-20b", prompt="[[forbidden]] x", max_tokens=50, stream=True))
        assert "forbidden" not in "".join(c.choices[0].text for c in chunks if c.choices)
        assert chunks[-1].choices[0].finish_reason == "content_filter"

    def test_fails_when_the_input_is_blocked(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.completions.create(model="gpt-oss-20b", prompt="[[block-input]]", max_tokens=5)
        assert err.value.body["code"] == "content_filter"

    def test_fails_on_a_bedrock_route_naming_chat_completions(self, client, stats):
        with pytest.raises(openai.BadRequestError) as err:
            client.completions.create(model="gpt-oss-120b", prompt="hi")
        assert err.value.body["param"] == "model" and "/v1/chat/completions" in err.value.body["message"]
        assert stats()["model_requests"] == []

    @pytest.mark.parametrize("extra, param", [({"echo": True}, "echo"), ({"logprobs": 2}, "logprobs"), ({"best_of": 3}, "best_of"),
                                              ({"suffix": "x"}, "suffix"), ({"n": 2}, "n"), ({"prompt": [1, 2, 3]}, "prompt")])
    def test_fails_on_what_it_cannot_guard(self, client, extra, param):
        with pytest.raises(openai.BadRequestError) as err:
            client.completions.create(**{"model": "gpt-oss-20b", "prompt": "hi", **extra})
        assert err.value.body["param"] == param

    def test_llamaindex_style_raw_post(self, proxy_url):
        status, headers, body = post(f"{proxy_url}/v1/completions", {"model": "gpt-oss-20b", "prompt": "hi", "max_tokens": 10, "temperature": 0.1})
        assert status == 200 and headers["x-gptoss-route"] == "gpt-oss-20b"
