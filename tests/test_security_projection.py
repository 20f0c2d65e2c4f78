"""The security projection per region (IAM statements, security-group rules, KMS references, public exposure)
matches the reviewed files in tests/projections/. After an intended change: ``make projection``, review the
YAML diff, commit it. (It replaced 6,800 lines of whole-template snapshots.)"""

from __future__ import annotations

import pytest

from tests.conftest import APP_REGIONS
from tools import projection

pytestmark = pytest.mark.slow


def test_the_projection_is_made_for_the_session_regions():
    assert projection.REGIONS == APP_REGIONS


@pytest.mark.parametrize("region", APP_REGIONS)
def test_security_projection_is_the_reviewed_one(platform_app, region):
    current = projection.dump(projection.project_assembly(platform_app.outdir, region), region)
    committed = (projection.PROJECTIONS / f"{region}.yaml").read_text()
    assert current == committed, f"the {region} security projection changed: run `make projection`, review the diff, commit it"


@pytest.mark.parametrize("name", projection.CONFIGURATIONS)
def test_every_matrix_configuration_has_its_reviewed_projection(name, tmp_path_factory):
    """Issue 22 (Medium): a security projection per nag-matrix configuration, reusing test_nag's synth of it."""
    from tests.test_nag import matrix_assembly
    from tools.nag import matrix

    app = matrix_assembly(name, tmp_path_factory)
    for region in matrix.BY_NAME[name].regions:
        current = projection.dump(projection.project_assembly(app.outdir, region), f"{region} ({name})")
        committed = projection.configuration_path(name, region).read_text()
        assert current == committed, f"the {name} {region} projection changed: run `make projection`, review the diff, commit it"


def test_the_projection_sees_what_it_must_report():
    """A projection that cannot see a public subnet, an open ingress, a wildcard or a missing key is worthless:
    project a deliberately bad template and find each of them."""
    bad = {
        "Resources": {
            "Igw": {"Type": "AWS::EC2::InternetGateway"},
            "Sub": {"Type": "AWS::EC2::Subnet", "Properties": {"MapPublicIpOnLaunch": True}},
            "Rt": {"Type": "AWS::EC2::Route", "Properties": {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": {"Ref": "Igw"}}},
            "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}},
            "Pol": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE"}},
        }
    }
    p = projection.project({"Bad": bad})
    exposure = p["public_exposure"]
    assert exposure["internet_gateways"] == 1 and exposure["public_ip_subnets"] == ["Bad/Sub"] and exposure["default_routes"] == ["Bad/Rt"]
    assert exposure["open_ingress"] == ["Bad/Sg: ingress tcp 22 from 0.0.0.0/0"] and exposure["function_urls"] == {"Bad/Url": "NONE"}
    assert p["iam"]["Bad/Pol"]["statements"] == ["Allow * on *"]
    assert p["kms"]["without_key"] == ["Bad/Logs (AWS::Logs::LogGroup)"]
