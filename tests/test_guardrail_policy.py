"""Guardrail policy files: presets load, the schema matches the service, every bad field has its message."""

from __future__ import annotations

import json

import botocore.session
import pytest
import yaml

from gptoss_constructs import guardrail_policy as gp
from gptoss_constructs.guardrail_policy import PolicyError, load_policy, parse_policy, preset_names

MINIMAL = {"blocked_input_message": "no", "blocked_output_message": "no", "profanity_filter": True}


@pytest.mark.parametrize("name", ["baseline", "strict", "pii-redact"])
def test_every_preset_loads(name):
    policy = load_policy(name)
    assert policy.blocked_input_message and policy.source.endswith(f"{name}.yaml")


def test_presets_are_exactly_the_documented_three():
    assert preset_names() == ["baseline", "pii-redact", "strict"]


def test_enums_and_limits_match_the_bedrock_api_model():
    model = botocore.session.get_session().get_service_model("bedrock")
    assert tuple(model.shape_for("GuardrailPiiEntityType").enum) == gp.PII_ENTITY_TYPES
    assert tuple(model.shape_for("GuardrailContentFilterType").enum) == gp.CONTENT_FILTER_TYPES
    assert tuple(model.shape_for("GuardrailFilterStrength").enum) == gp.STRENGTHS
    assert tuple(model.shape_for("GuardrailSensitiveInformationAction").enum) == gp.PII_ACTIONS
    assert model.shape_for("GuardrailTopicsConfig").metadata["max"] == gp.MAX_TOPICS
    assert model.shape_for("GuardrailTopicExamples").metadata["max"] == gp.MAX_TOPIC_EXAMPLES
    assert model.shape_for("GuardrailRegexesConfig").metadata["max"] == gp.MAX_REGEXES
    assert model.shape_for("GuardrailBlockedMessaging").metadata["max"] == 500


def test_json_and_yaml_files_give_the_same_policy(tmp_path):
    raw = yaml.safe_load((gp.PRESETS_DIR / "strict.yaml").read_text())
    (tmp_path / "p.json").write_text(json.dumps(raw))
    (tmp_path / "p.yml").write_text(yaml.safe_dump(raw))
    assert load_policy("p.json", base_dir=tmp_path) == load_policy("p.yml", base_dir=tmp_path) == load_policy("strict")


def test_fingerprint_follows_content_not_source(tmp_path):
    (tmp_path / "copy.yaml").write_text((gp.PRESETS_DIR / "baseline.yaml").read_text())
    assert load_policy("copy.yaml", base_dir=tmp_path).fingerprint() == load_policy("baseline").fingerprint()
    assert load_policy("strict").fingerprint() != load_policy("baseline").fingerprint()


def _bad(**changes):
    raw = {**MINIMAL, **changes}
    return {k: v for k, v in raw.items() if v is not None}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "the policy must be a mapping of description, blocked_input_message"),
        (_bad(colour="red"), "unknown field(s) colour; allowed: description, blocked_input_message"),
        (_bad(blocked_input_message=None), "blocked_input_message is required"),
        (_bad(blocked_output_message="x" * 501), "blocked_output_message must be 1 to 500 characters, got 501"),
        (_bad(tier="PREMIUM"), "tier must be one of CLASSIC, STANDARD, got 'PREMIUM'"),
        (_bad(content_filters=[{"type": "GORE", "input_strength": "HIGH", "output_strength": "HIGH"}]), "content_filters[0].type must be one of SEXUAL, VIOLENCE, HATE, INSULTS, MISCONDUCT, PROMPT_ATTACK, got 'GORE'"),
        (_bad(content_filters=[{"type": "HATE", "input_strength": "EXTREME", "output_strength": "HIGH"}]), "content_filters[0].input_strength must be one of NONE, LOW, MEDIUM, HIGH, got 'EXTREME'"),
        (_bad(content_filters=[{"type": "PROMPT_ATTACK", "input_strength": "HIGH", "output_strength": "LOW"}]), "content_filters[0].output_strength must be NONE for PROMPT_ATTACK (it checks input only), got 'LOW'"),
        (_bad(content_filters=[{"type": "HATE", "input_strength": "HIGH", "output_strength": "HIGH"}] * 2), "content_filters lists the type 'HATE' more than once"),
        (_bad(content_filters=[{"type": "HATE", "input_strength": "HIGH", "output_strength": "HIGH", "input_action": "ANONYMIZE"}]), "content_filters[0].input_action must be one of BLOCK, NONE, got 'ANONYMIZE'"),
        (_bad(denied_topics=[{"name": f"t{i}", "definition": "d"} for i in range(31)]), "denied_topics may have at most 30 entries, got 31"),
        (_bad(denied_topics=[{"name": "bad/name", "definition": "d"}]), "denied_topics[0].name may use only letters, digits, space and -_!?. , got 'bad/name'"),
        (_bad(denied_topics=[{"name": "t", "definition": "d" * 201}]), "denied_topics[0].definition must be 1 to 200 characters, got 201"),
        (_bad(denied_topics=[{"name": "t", "definition": "d", "examples": ["e"] * 6}]), "denied_topics[0].examples must be a list of at most 5 strings"),
        (_bad(denied_topics=[{"name": "t", "definition": "d", "examples": ["e" * 101]}]), "denied_topics[0].examples[0] must be 1 to 100 characters, got 101"),
        (_bad(words=["x" * 101]), "words[0] must be 1 to 100 characters, got 101"),
        (_bad(profanity_filter="yes"), "profanity_filter must be true or false, got 'yes'"),
        (_bad(pii_entities=[{"type": "SSN", "action": "BLOCK"}]), "pii_entities[0].type must be one of ADDRESS, AGE, AWS_ACCESS_KEY"),
        (_bad(pii_entities=[{"type": "EMAIL", "action": "HIDE"}]), "pii_entities[0].action must be one of BLOCK, ANONYMIZE, NONE, got 'HIDE'"),
        (_bad(regexes=[{"name": "r", "pattern": "x" * 501, "action": "BLOCK"}]), "regexes[0].pattern must be 1 to 500 characters, got 501"),
        (_bad(regexes=[{"name": "r", "pattern": "([a-z", "action": "BLOCK"}]), "regexes[0].pattern is not a valid regular expression"),
        (_bad(contextual_grounding={"grounding_threshold": 1.0}), "contextual_grounding.grounding_threshold must be a number from 0 to 0.99, got 1.0"),
        (_bad(contextual_grounding={"relevance_threshold": -0.1}), "contextual_grounding.relevance_threshold must be a number from 0 to 0.99, got -0.1"),
        (_bad(contextual_grounding={"groundedness": 0.5}), "contextual_grounding has unknown field(s) groundedness; allowed: grounding_threshold, relevance_threshold"),
        (_bad(profanity_filter=False), "the policy enforces nothing"),
    ],
)
def test_fails_with_a_message_naming_the_field(raw, message):
    with pytest.raises(PolicyError) as err:
        parse_policy(raw)
    assert message in str(err.value)


def test_fails_when_the_file_is_missing_or_not_yaml(tmp_path):
    with pytest.raises(PolicyError, match="guardrail policy file 'nope.yaml' does not exist"):
        load_policy("nope.yaml", base_dir=tmp_path)
    (tmp_path / "p.txt").write_text("x")
    with pytest.raises(PolicyError, match="must end in .yaml, .yml or .json"):
        load_policy("p.txt", base_dir=tmp_path)
    (tmp_path / "broken.yaml").write_text("a: [1, 2")
    with pytest.raises(PolicyError, match="broken.yaml: cannot be parsed"):
        load_policy("broken.yaml", base_dir=tmp_path)


def test_file_errors_name_the_file(tmp_path):
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(_bad(tier="GOLD")))
    with pytest.raises(PolicyError, match=r"^mine.yaml: tier must be one of CLASSIC, STANDARD, got 'GOLD'$"):
        load_policy("mine.yaml", base_dir=tmp_path)
