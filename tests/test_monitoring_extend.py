"""PlatformMonitoring without escape hatches (issue 24 item 5): your own alarm topic, and the saturation alarm
derived from each endpoint's scaling target."""

from __future__ import annotations

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.monitoring import PlatformMonitoring
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app


def _stack() -> tuple[Stack, PrivateNetwork]:
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    return stack, PrivateNetwork(stack, "Net", flow_logs=False, interface_endpoints=[])


def _thresholds(t: Template) -> dict[str, float]:
    return {a["Properties"]["AlarmDescription"]: a["Properties"]["Threshold"] for a in t.find_resources("AWS::CloudWatch::Alarm").values()}


@pytest.fixture(scope="module")
def own_topic():
    stack, net = _stack()
    key = kms.Key(stack, "TeamKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "TeamTopic", master_key=key, enforce_ssl=True)
    ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc)
    mon = PlatformMonitoring(stack, "Mon", endpoints=[ep], alarm_topic=topic, alarm_emails=["oncall@example.com"])
    return stack, key, topic, mon, Template.from_stack(stack)


class TestAlarmTopic:
    def test_alarms_notify_your_topic_and_no_topic_or_key_of_ours_exists(self, own_topic):
        stack, key, topic, mon, t = own_topic
        ref = {"Ref": stack.resolve(topic.node.default_child.logical_id)}
        t.resource_count_is("AWS::SNS::Topic", 1)
        assert mon.topic is topic and mon.encryption_key is key and mon.node.try_find_child("Key") is None
        resources = t.to_json()["Resources"]
        alarms = [resources[stack.resolve(a.node.default_child.logical_id)]["Properties"] for a in mon.alarms.values()]
        # the fixture's three alarms plus "undelivered-notifications" on the e-mail dead-letter queue
        assert len(alarms) == 4 and all(a["AlarmActions"] == [ref] and a["OKActions"] == [ref] for a in alarms)

    def test_emails_still_subscribe_to_your_topic(self, own_topic):
        stack, _, topic, _, t = own_topic
        t.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": {"Ref": stack.resolve(topic.node.default_child.logical_id)}})

    def test_your_key_lets_cloudwatch_alarms_publish(self, own_topic):
        """SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted
        topics": CloudWatch publishes to a topic encrypted with a customer-managed key only if the key policy lets
        ``cloudwatch.amazonaws.com`` use kms:Decrypt and kms:GenerateDataKey (the default topic's key has the same
        statement)."""
        stack, key, _, _, t = own_topic
        (policy,) = [r["Properties"]["KeyPolicy"] for k, r in t.find_resources("AWS::KMS::Key").items() if k == stack.resolve(key.node.default_child.logical_id)]
        (st,) = [s for s in policy["Statement"] if s.get("Sid") == "AllowCloudWatchAlarmsToPublish"]
        assert (st["Principal"], st["Action"]) == ({"Service": "cloudwatch.amazonaws.com"}, ["kms:Decrypt", "kms:GenerateDataKey"])
        assert st["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        Annotations.from_stack(stack).has_no_warning("/T/Mon", Match.any_value())

    def test_an_imported_topic_says_what_its_key_needs(self):
        stack, _ = _stack()
        topic = sns.Topic.from_topic_arn(stack, "Central", "arn:aws:sns:us-east-1:111122223333:central-alarms")
        PlatformMonitoring(stack, "Mon", alarm_topic=topic)
        Annotations.from_stack(stack).has_warning("/T/Mon", Match.string_like_regexp(
            "alarm_topic: if T/Central is encrypted with a customer-managed KMS key, that key's policy must allow principal cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey"))
        Template.from_stack(stack).resource_count_is("AWS::SNS::Topic", 0)

    def test_fails_when_alarm_topic_and_encryption_key_are_both_given(self):
        stack, _ = _stack()
        with pytest.raises(ValueError, match="encryption_key is the key of the topic this construct creates and cannot apply to alarm_topic; pass one of them, got both"):
            PlatformMonitoring(stack, "Mon", alarm_topic=sns.Topic(stack, "Mine"), encryption_key=kms.Key(stack, "K"))


class TestSaturationThreshold:
    def test_twice_each_endpoints_own_scaling_target(self):
        stack, net = _stack()
        scaled = GptOssEndpoint(stack, "Scaled", model="gpt-oss-20b", vpc=net.vpc)
        scaled.add_autoscaling(min_capacity=1, max_capacity=3, concurrent_requests_per_model=12)
        plain = GptOssEndpoint(stack, "Plain", model="gpt-oss-20b", vpc=net.vpc, instance_type="ml.g6e.2xlarge")
        PlatformMonitoring(stack, "Mon", endpoints=[scaled, plain])
        thresholds = _thresholds(Template.from_stack(stack))
        assert thresholds[f"{scaled.endpoint_name}: saturated at its maximum capacity"] == 24
        assert thresholds[f"{plain.endpoint_name}: saturated at its maximum capacity"] == 16  # 2 x the default target 8

    def test_an_explicit_threshold_wins(self):
        stack, net = _stack()
        ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc)
        ep.add_autoscaling(concurrent_requests_per_model=12)
        PlatformMonitoring(stack, "Mon", endpoints=[ep], endpoint_saturation_concurrency=30)
        assert _thresholds(Template.from_stack(stack))[f"{ep.endpoint_name}: saturated at its maximum capacity"] == 30

    def test_fails_when_endpoint_saturation_concurrency_is_zero(self):
        stack, _ = _stack()
        with pytest.raises(ValueError, match="endpoint_saturation_concurrency must be between 1 and 100000, got 0"):
            PlatformMonitoring(stack, "Mon", endpoint_saturation_concurrency=0)
