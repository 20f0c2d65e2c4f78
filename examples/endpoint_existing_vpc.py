"""GptOssEndpoint in an existing VPC: wrap the VPC (no lookup, attributes given), add only the endpoints it
lacks, and host gpt-oss-20b in its isolated subnets.

    .venv/bin/python examples/endpoint_existing_vpc.py
"""

from __future__ import annotations

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2

from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.network import PrivateNetwork


def build(app: App) -> Stack:
    stack = Stack(app, "EndpointInExistingVpc", env=Environment(region="us-east-2"))
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "CorpVpc",
        vpc_id="vpc-0abc1234def567890",
        vpc_cidr_block="10.20.0.0/16",
        availability_zones=["us-east-2a", "us-east-2b"],
        isolated_subnet_ids=["subnet-0aaa1111", "subnet-0bbb2222"],
        isolated_subnet_route_table_ids=["rtb-0aaa1111", "rtb-0bbb2222"],
    )
    PrivateNetwork(stack, "Additions", vpc=vpc, vpc_cidr="10.20.0.0/16", interface_endpoints=["sagemaker.runtime"], flow_logs=False)
    endpoint = GptOssEndpoint(stack, "Gpt20b", model="gpt-oss-20b", vpc=vpc, instance_type="ml.g6e.2xlarge")
    endpoint.add_autoscaling(min_capacity=1, max_capacity=3)
    return stack


if __name__ == "__main__":
    app = App(outdir="cdk.out.examples")
    build(app)
    app.synth()
