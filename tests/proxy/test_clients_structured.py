"""Issue 17 item 5: structured output. `response_format` json_schema (strict) reaches the backend that enforces
it, the emulators answer the way guided decoding does (a JSON value valid against the schema), and real
libraries get parsed objects: the OpenAI SDK's `.parse()` (stream and not), LangChain `with_structured_output`
(json_schema, json_mode and tool-based function_calling), and Strands `structured_output` (native) plus its
tool-based `structured_output_model`.

Sources: vLLM's OpenAI server takes `response_format` (json_object / json_schema) and turns it into structured
outputs for guided decoding (vllm-project/vllm vllm/entrypoints/openai/chat_completion/protocol.py,
`ChatCompletionRequest.response_format`, `structured_outputs_from_response_format`). Bedrock: "With open weight
models, use the response_format request field" for InvokeModel (Bedrock user guide, "Get validated JSON results
from models"); whether gpt-oss is among the supported models is UNCONFIRMED offline (preflight check).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Optional

import jsonschema
import pytest
from pydantic import BaseModel, Field

from emulators.schema import instance


class Unit(str, Enum):
    celsius = "C"
    fahrenheit = "F"


class Reading(BaseModel):
    hour: int = Field(ge=0, le=23)
    temperature: float


class Forecast(BaseModel):
    city: str
    unit: Unit
    readings: list[Reading] = Field(min_length=2)
    note: Optional[str] = None
    sunny: bool


def _last_body(stats, prefix: str) -> dict:
    return [b["body"] for b in stats()["model_requests"] if b["target"].startswith(prefix)][-1]


class TestSchemaInstances:
    """The emulator's generator: every value must validate against its schema (jsonschema, Draft 2020-12)."""

    @pytest.mark.parametrize(
        "schema",
        [
            Forecast.model_json_schema(),
            {"type": "object", "properties": {"a": {"type": ["string", "null"], "minLength": 8}, "b": {"type": "integer", "exclusiveMinimum": 5, "maximum": 9}}, "required": ["a", "b"], "additionalProperties": False},
            {"type": "array", "items": {"type": "number", "minimum": 10}, "minItems": 3, "maxItems": 3},
            {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/x"}], "$defs": {"x": {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}, "required": ["d"]}}},
            {"allOf": [{"type": "object", "properties": {"p": {"const": 3}}, "required": ["p"]}, {"type": "object", "properties": {"q": {"enum": ["x", "y"]}}, "required": ["q"]}]},
            {"type": "object", "properties": {"tuple": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}]}}, "required": ["tuple"]},
            {"type": "string", "maxLength": 3},
            {},
        ],
    )
    def test_generated_value_validates(self, schema):
        jsonschema.validate(instance(schema), schema, cls=jsonschema.Draft202012Validator)


class TestOpenAISDK:
    @pytest.mark.parametrize(("model", "backend"), [("gpt-oss-20b", "sagemaker"), ("gpt-oss-120b", "bedrock")])
    def test_parse_returns_the_pydantic_object_and_the_schema_reaches_the_backend(self, client, stats, model, backend):
        completion = client.chat.completions.parse(model=model, messages=[{"role": "user", "content": "Forecast for Paris"}], response_format=Forecast)
        parsed = completion.choices[0].message.parsed
        assert isinstance(parsed, Forecast) and len(parsed.readings) >= 2 and parsed.unit in Unit
        sent = _last_body(stats, backend)["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True and sent["json_schema"]["name"] == "Forecast"
        assert sent["json_schema"]["schema"]["required"] == ["city", "unit", "readings", "note", "sunny"]  # the SDK's strict schema, untouched

    def test_beta_parse_path(self, client):
        completion = client.beta.chat.completions.parse(model="gpt-oss-20b", messages=[{"role": "user", "content": "x"}], response_format=Reading)
        assert isinstance(completion.choices[0].message.parsed, Reading)

    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_streamed_parse(self, client, model):
        with client.chat.completions.stream(model=model, messages=[{"role": "user", "content": "Forecast"}], response_format=Forecast) as stream:
            final = stream.get_final_completion()
        assert isinstance(final.choices[0].message.parsed, Forecast)

    def test_json_object_mode_still_works(self, client, stats):
        r = client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_object"})
        assert json.loads(r.choices[0].message.content) == {"echo": "hi"}
        assert _last_body(stats, "bedrock")["response_format"] == {"type": "json_object"}


class TestLangChain:
    @pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
    def test_with_structured_output(self, proxy_url, method):
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(model="gpt-oss-20b", base_url=f"{proxy_url}/v1", api_key="unused", max_retries=0)
        if method == "json_mode":  # json_mode gives whatever JSON the model writes: the emulator's echo object
            result = llm.with_structured_output(None, method="json_mode").invoke("Return JSON please")
            assert result == {"echo": "Return JSON please"}
            return
        result = llm.with_structured_output(Forecast, method=method).invoke("Forecast for Paris")
        assert isinstance(result, Forecast) and len(result.readings) >= 2


class TestStrands:
    def test_native_structured_output(self, proxy_url, stats):
        """Strands' OpenAIModel.structured_output calls the SDK's beta `parse` with `response_format`."""
        from strands import Agent
        from strands.models.openai import OpenAIModel

        model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-20b")
        result = Agent(model=model, callback_handler=None).structured_output(Forecast, "Forecast for Paris")
        assert isinstance(result, Forecast)
        assert _last_body(stats, "sagemaker")["response_format"]["json_schema"]["name"] == "Forecast"

    def test_tool_based_structured_output_model(self, proxy_url):
        from strands import Agent
        from strands.models.openai import OpenAIModel

        model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-120b")
        result = Agent(model=model, callback_handler=None)("Forecast for Paris", structured_output_model=Forecast)
        assert isinstance(result.structured_output, Forecast)


class TestInstructor:
    @pytest.mark.parametrize("mode", ["TOOLS", "JSON_SCHEMA"])
    def test_instructor_modes(self, client, stats, mode):
        """instructor patches the SDK client: TOOLS forces a tool call, JSON_SCHEMA sends response_format (its
        deprecated FUNCTIONS and TOOLS_STRICT modes are sent as TOOLS by instructor 1.17)."""
        import instructor

        patched = instructor.from_openai(client, mode=getattr(instructor.Mode, mode))
        result = patched.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "Forecast for Paris"}], response_model=Forecast, max_retries=0)
        assert isinstance(result, Forecast) and len(result.readings) >= 2
        sent = _last_body(stats, "sagemaker")
        assert ("response_format" in sent) == (mode == "JSON_SCHEMA") and ("tools" in sent) == (mode != "JSON_SCHEMA")
