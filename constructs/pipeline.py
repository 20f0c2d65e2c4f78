"""PlatformPipeline: a CDK Pipelines deploy pipeline whose every stage is gated like a reviewed change.

Gates, in order, for each stage (an account with one or more regions):
1. synth with every cdk-nag pack, then cfn-lint, checkov and the project's other scanners (``make lint``): any open
   finding fails the build, so nothing unreviewed reaches a stage;
2. ``make preflight`` per region, as the target account's CDK bootstrap *lookup role* (read-only: the bootstrap
   template gives it ``ReadOnlyAccess`` and denies ``kms:Decrypt``);
3. a manual approval before every stage marked prod; only the named approver roles may answer it
   (``codepipeline:PutApprovalResult`` on that one action), and CodePipeline records who did (``ActionExecution``
   ``lastUpdatedBy``; CloudTrail records the ``PutApprovalResult`` call);
4. the deploy (CloudFormation through the bootstrap deploy role);
5. ``make verify`` per region as the stage's verify role; its evidence (``reports/verify``) is kept as the step's
   output artifact in the pipeline's KMS-encrypted, versioned, retained artifact bucket.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Sequence

from aws_cdk import Acknowledgment, CfnResource, Duration, RemovalPolicy, Stack, Stage, Validations, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from gptoss_constructs._compliance import acknowledge_in_packs
from gptoss_constructs._defaults import nag_render

#: CodeBuild image for every step: Amazon Linux with Python 3.11+ and Node; the Makefile brings Node 22 itself.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
#: the default CDK bootstrap qualifier (``cdk bootstrap --qualifier``)
DEFAULT_QUALIFIER = "hnb659fds"


def lookup_role_arn(account: str, region: str, qualifier: str = DEFAULT_QUALIFIER, partition: str = "aws") -> str:
    """The CDK bootstrap lookup role of ``account``/``region``: ``cdk-<qualifier>-lookup-role-<account>-<region>``
    (aws-cdk ``lib/api/bootstrap/bootstrap-template.yaml``, ``LookupRole.RoleName``). ``cdk bootstrap --trust
    <pipeline account>`` lets the pipeline account assume it; it holds ``ReadOnlyAccess`` only."""
    return f"arn:{partition}:iam::{account}:role/cdk-{qualifier}-lookup-role-{account}-{region}"


def verify_role_name(stage: str, region: str) -> str:
    """The verify role each stage deploys in its account (``VerifyAccess`` stack), named so the pipeline can
    assume it without a cross-environment reference."""
    return f"gptoss-verify-{stage}-{region}"[:64]


def verify_runner_role_name(stage: str, region: str) -> str:
    """The pipeline-account role the stage's verify step runs as; the stage's verify role trusts exactly it."""
    return f"gptoss-pipeline-verify-{stage}-{region}"[:64]


@dataclass(frozen=True)
class StageGates:
    """What a stage's gates run: the ``-c`` arguments of the stage's region for preflight and verify."""

    name: str
    account: str
    region: str
    cdk_args: str


class PlatformPipeline(Construct):
    """A self-mutating CDK pipeline with the platform's gates (module docstring).

    :param source: the pipeline's source, e.g. ``pipelines.CodePipelineSource.connection(...)``.
    :param synth_commands: the gated synth (Default: - ``make lint`` with the pipeline context, which synthesizes
        with every nag pack and runs cfn-lint and checkov over every template, stages included).
    :param pipeline_name: Default: - CloudFormation generates one.
    :param bootstrap_qualifier: the target accounts' bootstrap qualifier. Default: - ``hnb659fds``.
    :param removal_policy: for the artifact bucket (the stage evidence), its key and access-log bucket.
        Default: - RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: pipelines.CodePipelineSource,
        synth_commands: Sequence[str],
        pipeline_name: str | None = None,
        bootstrap_qualifier: str = DEFAULT_QUALIFIER,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        self._qualifier = bootstrap_qualifier
        self.encryption_key = kms.Key(
            self, "ArtifactKey", enable_key_rotation=True, removal_policy=removal_policy,
            description="gpt-oss-platform pipeline: artifacts and stage evidence",
        )
        # Server access logs cannot be delivered to an SSE-KMS bucket with the S3 log delivery group's grants;
        # S3-managed keys it is (S3 UG "Enabling Amazon S3 server access logging": "destination bucket ... SSE-S3").
        self.access_log_bucket = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
        )
        self.artifact_bucket = s3.Bucket(
            self, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=self.encryption_key, bucket_key_enabled=True,
            enforce_ssl=True, versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket, server_access_logs_prefix="artifacts/",
            removal_policy=removal_policy,
        )
        self.synth_step = pipelines.CodeBuildStep(
            "Synth", input=source, commands=list(synth_commands), primary_output_directory="cdk.out",
            build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE), timeout=Duration.minutes(60),
        )
        self.pipeline = pipelines.CodePipeline(
            self, "Resource", synth=self.synth_step, artifact_bucket=self.artifact_bucket, pipeline_name=pipeline_name,
            cross_account_keys=True, enable_key_rotation=True, publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE)),
        )
        self._source = source
        self.waves: dict[str, pipelines.Wave] = {}
        self.approvals: dict[str, pipelines.ManualApprovalStep] = {}
        self.approver_policies: dict[str, iam.ManagedPolicy] = {}
        self.verify_runner_roles: dict[tuple[str, str], iam.Role] = {}
        self._approvers: dict[str, tuple[str, ...]] = {}

    def add_platform_stage(self, name: str, stages: Sequence[tuple[Stage, StageGates]], *, prod: bool, approvers: Sequence[str]) -> pipelines.Wave:
        """Adds one wave: preflight for every region, then (prod) the approval, then the regional stages, each
        followed by its verify step. Returns the wave."""
        if prod and not approvers:
            raise ValueError(f"stage {name!r} is prod and names no approvers: a prod stage needs at least one approver role")
        preflights = [self._preflight(g) for _, g in stages]
        pre: list[pipelines.Step] = list(preflights)
        if prod:
            approval = pipelines.ManualApprovalStep(
                "Approve", comment=f"Deploy gpt-oss-platform to {name} ({', '.join(g.region for _, g in stages)}): "
                "review the synth gate's reports and the preflight output first",
            )
            for p in preflights:
                approval.add_step_dependency(p)
            pre.append(approval)
            self.approvals[name] = approval
        wave = self.pipeline.add_wave(name, pre=pre)
        for stage, gates in stages:
            wave.add_stage(stage, post=[self._verify(gates)])
        self.waves[name] = wave
        if prod:
            self._approvers[name] = tuple(approvers)
        return wave

    def _preflight(self, g: StageGates) -> pipelines.CodeBuildStep:
        return pipelines.CodeBuildStep(
            f"Preflight-{g.region}", input=self._source,
            commands=[f"bash tools/with_role.sh {lookup_role_arn(g.account, g.region, self._qualifier, Stack.of(self).partition)} "
                      f"make preflight CDK_ARGS='{g.cdk_args}'"],
            role_policy_statements=[iam.PolicyStatement(
                sid="AssumeTheStageLookupRole", actions=["sts:AssumeRole"],
                resources=[lookup_role_arn(g.account, g.region, self._qualifier, Stack.of(self).partition)])],
            timeout=Duration.minutes(20),
        )

    def _verify(self, g: StageGates) -> pipelines.CodeBuildStep:
        target = f"arn:{Stack.of(self).partition}:iam::{g.account}:role/{verify_role_name(g.name, g.region)}"
        runner = iam.Role(
            self, f"VerifyRunner-{g.name}-{g.region}", role_name=verify_runner_role_name(g.name, g.region),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"runs make verify for {g.name} {g.region}; may assume only that stage's verify role",
        )
        runner.add_to_policy(iam.PolicyStatement(sid="AssumeTheStageVerifyRole", actions=["sts:AssumeRole"], resources=[target]))
        self.verify_runner_roles[(g.name, g.region)] = runner
        return pipelines.CodeBuildStep(
            f"Verify-{g.region}", input=self._source, role=runner,
            commands=[f"bash tools/with_role.sh {target} make verify CDK_ARGS='{g.cdk_args}'"],
            primary_output_directory="reports/verify", timeout=Duration.minutes(30),
        )

    def finish(self) -> None:
        """Builds the CodePipeline, then grants each prod stage's approvers its approval action only."""
        self.pipeline.build_pipeline()
        cp = self.pipeline.pipeline
        stack = Stack.of(self)
        for name, approvers in self._approvers.items():
            # CDK Pipelines names a wave's CodePipeline stage after its only stage when it has one: read the real name
            stage_name = next(st.stage_name for st in cp.stages if st.stage_name.startswith(name)
                              and any(a.action_properties.action_name == "Approve" for a in st.actions))
            action_arn = stack.format_arn(service="codepipeline", resource=cp.pipeline_name, resource_name=f"{stage_name}/Approve")
            policy = iam.ManagedPolicy(
                self, f"Approvers-{name}", description=f"approve or reject gpt-oss-platform deploys to {name}",
                statements=[
                    iam.PolicyStatement(sid="AnswerThisApproval", actions=["codepipeline:PutApprovalResult"], resources=[action_arn]),
                    iam.PolicyStatement(sid="ReadThePipelineState", actions=["codepipeline:GetPipeline", "codepipeline:GetPipelineState",
                                        "codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions"], resources=[cp.pipeline_arn]),
                ],
                roles=[iam.Role.from_role_arn(self, f"Approver-{name}-{i}", arn, mutable=False) for i, arn in enumerate(approvers)],
            )
            self.approver_policies[name] = policy
        for region, support in cp.cross_region_support.items():
            _harden_replication_bucket(support.stack, support.replication_bucket, region)
        self._acknowledge()

    def _acknowledge(self) -> None:
        """Acknowledges the findings of the resources CDK Pipelines generates, one exact id per policy, each with
        the reason of its kind (``PIPELINE_WILDCARDS``); a wildcard of an unknown kind stays open and fails synth."""
        stack = Stack.of(self)
        support = self.pipeline.pipeline.cross_region_support.values()
        buckets = [nag_render(stack.resolve(self.artifact_bucket.bucket_arn)),
                   *(f"arn:{stack.partition}:s3:::{stack.resolve(s.replication_bucket.bucket_name)}" for s in support)]
        roots: list[IConstruct] = [self, *(s.stack for s in support)]
        for root in roots:
            for c in root.node.find_all():
                if isinstance(c, iam.CfnPolicy):
                    for finding in wildcard_findings(Stack.of(c).resolve(c.policy_document)):
                        reason = wildcard_reason(finding, buckets)
                        if reason:
                            Validations.of(c).acknowledge(Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason))
                    acknowledge_in_packs(c, "IAMNoInlinePolicy",
                        "CDK Pipelines adds the grants of this pipeline role (artifact bucket and key, its CodeBuild project's logs, "
                        "the bootstrap roles it assumes) to the role's own default policy; the policy is attached to that one role only")
                elif isinstance(c, codebuild.CfnProject):
                    acknowledge_in_packs(c, "CodeBuildProjectSourceRepoUrl",
                        "source type CODEPIPELINE: this project reads its input from the pipeline's encrypted artifact bucket and "
                        "holds no repository URL or credentials; the repository is reached by the CodeConnections connection "
                        "(an OAuth app installation), which the rule does not see", packs=("HIPAA.Security", "PCI.DSS.321"))
        for bucket, what in ((self.artifact_bucket, "pipeline artifacts and stage evidence"), (self.access_log_bucket, "the artifact bucket's access logs")):
            acknowledge_in_packs(bucket, "S3BucketReplicationEnabled",
                f"holds {what} for one pipeline in one region; it is versioned and retained (RemovalPolicy.RETAIN), and the "
                "stage evidence is also reproducible by re-running make verify; cross-region replication is left to the "
                "platform team's backup policy (responsibility matrix)", packs=("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"))
        acknowledge_in_packs(self.access_log_bucket, "S3DefaultEncryptionKMS",
            "the S3 server access log destination: S3 log delivery requires SSE-S3 (S3 UG, server access logging: the "
            "destination bucket can use SSE-S3 only), so this bucket uses S3-managed keys", packs=("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"))


class StageVerifyRole(Construct):
    """The role ``make verify`` runs as in a stage's account and region.

    It trusts only the pipeline account, and within it only the one CodeBuild role that runs this stage's verify
    step (``aws:PrincipalArn``, the confused-deputy guard for cross-account trust: IAM UG "IAM JSON policy
    elements: Principal" and "AWS global condition context keys", aws:PrincipalArn). Its permissions are what the
    verify checks read, its own test alarm, and the short-lived verifier (function, role and security group)
    that ``make verify`` creates and deletes (``verify_statements``).
    """

    def __init__(self, scope: Construct, id: str, *, stage: str, pipeline_account: str, role_name_prefix: str = "") -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        runner = f"arn:{stack.partition}:iam::{pipeline_account}:role/{verify_runner_role_name(stage, stack.region)}"
        self.role = iam.Role(
            self, "Resource", role_name=verify_role_name(stage, stack.region),
            assumed_by=iam.AccountPrincipal(pipeline_account).with_conditions({"ArnEquals": {"aws:PrincipalArn": runner}}),
            description=f"make verify for the {stage} stage, assumed by the deploy pipeline's verify step only",
            max_session_duration=Duration.hours(1),
        )
        self.policy = iam.ManagedPolicy(self, "Policy", statements=verify_statements(stack, role_name_prefix), roles=[self.role])
        for finding in wildcard_findings(stack.resolve(self.policy.document.to_json())):
            template = finding.replace(f":{stack.region}:", ":{r}:").replace(f":{stack.account}:", ":{a}:")
            Validations.of(self.policy).acknowledge(Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]",
                reason=VERIFY_WILDCARDS[template] + "; the role is assumed only by the deploy pipeline's verify step"))


def verify_statements(stack: Stack, role_name_prefix: str = "") -> list[iam.PolicyStatement]:
    """What ``make verify`` calls in a stage's account and region (README "After the deploy: make verify", the
    table of checks and the verifier's needs): reads of the platform's stacks and resources, the test alarm, and the
    short-lived verifier (function, role and security group ``GptOssVerifier-<region>``) it creates and deletes."""
    region, account, partition = stack.region, stack.account, stack.partition
    arn = lambda service, resource: f"arn:{partition}:{service}:{region}:{account}:{resource}"  # noqa: E731
    verifier = f"GptOssVerifier-{region}"
    return [
        iam.PolicyStatement(sid="ReadThePlatformStacks", resources=[arn("cloudformation", "stack/GptOss-*/*")],
                            actions=["cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate"]),
        iam.PolicyStatement(sid="ReadTheEndpoints", actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
                            "sagemaker:DescribeModel", "sagemaker:DescribeInferenceComponent"],
                            resources=[arn("sagemaker", f"{kind}/*") for kind in ("endpoint", "endpoint-config", "model", "inference-component")]),
        iam.PolicyStatement(sid="ReadWithoutResourceScope", resources=["*"], actions=[
            "sagemaker:ListInferenceComponents", "logs:DescribeLogGroups", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups"]),
        iam.PolicyStatement(sid="ReadKeysTrailsAndContainerLogs", actions=["kms:DescribeKey", "cloudtrail:GetTrailStatus", "logs:FilterLogEvents"],
                            resources=[arn("kms", "key/*"), arn("cloudtrail", "trail/*"), arn("logs", "log-group:/aws/sagemaker/Endpoints/*")]),
        iam.PolicyStatement(sid="TestAlarmOfTheAlarmTopic", resources=[arn("cloudwatch", "alarm:GptOssVerify-*")], actions=[
            "cloudwatch:PutMetricAlarm", "cloudwatch:SetAlarmState", "cloudwatch:DescribeAlarmHistory", "cloudwatch:DeleteAlarms"]),
        iam.PolicyStatement(sid="ReadTheProxyRolesDenies", actions=["iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion"],
                            resources=[f"arn:{partition}:iam::{account}:role/*", f"arn:{partition}:iam::{account}:policy/*"]),
        iam.PolicyStatement(sid="TheShortLivedVerifierRole", resources=[f"arn:{partition}:iam::{account}:role/{role_name_prefix}{verifier}"],
                            actions=["iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"]),
        iam.PolicyStatement(sid="PassTheVerifierRoleToLambdaOnly", actions=["iam:PassRole"],
                            resources=[f"arn:{partition}:iam::{account}:role/{role_name_prefix}{verifier}"],
                            conditions={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        iam.PolicyStatement(sid="TheShortLivedVerifierFunction", resources=[arn("lambda", f"function:{verifier}")], actions=[
            "lambda:CreateFunction", "lambda:TagResource", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction", "lambda:DeleteFunction"]),
        iam.PolicyStatement(sid="TheVerifierSecurityGroup", resources=[arn("ec2", "security-group/*"), arn("ec2", "vpc/*")], actions=[
            "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup", "ec2:CreateTags"]),
    ]


#: why each wildcard of the verify role's policy is needed (exact IAM5 finding suffix -> reason)
VERIFY_WILDCARDS = {
    "Resource::*": "ListInferenceComponents, DescribeLogGroups and the ec2 Describe* calls have no resource-level "
                   "permissions (Service Authorization Reference); all are reads",
    "Resource::arn:aws:cloudformation:{r}:{a}:stack/GptOss-*/*": "the platform's own stacks of this region (GptOss-<kind>-<region>); "
                   "/* is the stack id CloudFormation appends",
    "Resource::arn:aws:sagemaker:{r}:{a}:endpoint/*": "endpoint names are generated per deployment and read from the stacks at run time; Describe only",
    "Resource::arn:aws:sagemaker:{r}:{a}:endpoint-config/*": "endpoint-config names are generated; Describe only",
    "Resource::arn:aws:sagemaker:{r}:{a}:model/*": "model names are generated; Describe only",
    "Resource::arn:aws:sagemaker:{r}:{a}:inference-component/*": "inference-component names are generated; Describe only",
    "Resource::arn:aws:kms:{r}:{a}:key/*": "key ids are generated and read from the log groups at run time; DescribeKey only",
    "Resource::arn:aws:cloudtrail:{r}:{a}:trail/*": "the trail's name is generated; GetTrailStatus only",
    "Resource::arn:aws:logs:{r}:{a}:log-group:/aws/sagemaker/Endpoints/*": "the endpoints' container log groups (named after "
                   "generated endpoint names); FilterLogEvents to confirm no prompt text is logged",
    "Resource::arn:aws:cloudwatch:{r}:{a}:alarm:GptOssVerify-*": "the check's own test alarm, named GptOssVerify-<region>-<time>, "
                   "created and deleted by the run",
    "Resource::arn:aws:iam::{a}:role/*": "the proxy role's name is generated; ListAttachedRolePolicies only (read)",
    "Resource::arn:aws:iam::{a}:policy/*": "the proxy role's deny policy name is generated; GetPolicy/GetPolicyVersion only (read)",
    "Resource::arn:aws:ec2:{r}:{a}:security-group/*": "the verifier's security group id is known only once created; the run "
                   "creates, tags and deletes that one group (tag gptoss:verify)",
    "Resource::arn:aws:ec2:{r}:{a}:vpc/*": "CreateSecurityGroup also authorizes on the VPC, whose id is read from the stacks",
}


def wildcard_findings(document: dict) -> list[str]:
    """The AwsSolutions-IAM5 findings of a policy document: ``Action::x*`` and ``Resource::...*`` of Allow statements."""
    found: list[str] = []
    for st in document.get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        for a in actions if isinstance(actions, list) else [actions]:
            if "*" in a and f"Action::{a}" not in found:
                found.append(f"Action::{a}")
        resources = st.get("Resource", [])
        for r in resources if isinstance(resources, list) else [resources]:
            try:
                flat = nag_render(r)
            except ValueError:  # an intrinsic cdk-nag does not flatten: it writes the JSON (its fallback)
                flat = json.dumps(r, separators=(",", ":"))
            if "*" in flat and f"Resource::{flat}" not in found:
                found.append(f"Resource::{flat}")
    return found


#: (pattern of an IAM5 finding in a CDK Pipelines role, why it is acceptable there)
PIPELINE_WILDCARDS: tuple[tuple[str, str], ...] = (
    (r"Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObject)\*",
     "CDK Pipelines' read/write grant on the pipeline's own artifact buckets (object-level actions; the Resource of the "
     "same statement is those buckets and their objects only)"),
    (r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
     "CDK Pipelines' encrypt/decrypt grant on the artifact buckets' KMS keys (the variants of GenerateDataKey and ReEncrypt "
     "a client may call; each key's own policy also names this role)"),
    (r"Resource::arn:[a-z-]+:logs:[a-z0-9-]+:\d{12}:log-group:/aws/codebuild/<[A-Za-z0-9]+>:\*",
     "CodeBuild writes this project's build logs to its own log group /aws/codebuild/<project>; :* covers its streams"),
    (r"Resource::arn:[a-z-]+:codebuild:[a-z0-9-]+:\d{12}:report-group/<[A-Za-z0-9]+>-\*",
     "CodeBuild test report groups named after this project only (<project>-*)"),
    (r"Resource::arn:[a-z-]+:(logs:[a-z0-9-]+:\d{12}:log-group:/aws/codebuild/|codebuild:[a-z0-9-]+:\d{12}:report-group/)\*",
     "the asset-publishing role is shared by every asset CodeBuild project CDK Pipelines creates (their names are not "
     "known when the role is made), so CDK grants it the logs and report groups of CodeBuild projects in this account "
     "and region; it can start no build outside the pipeline's asset actions"),
    (r"Resource::arn:\*:iam::\d{12}:role/\*",
     "the self-mutation and asset steps assume the CDK bootstrap roles of the pipeline's environments; CDK Pipelines "
     "conditions the statement on iam:ResourceTag/aws-cdk:bootstrap-role (deploy, file-publishing, image-publishing), so "
     "only bootstrap roles match"),
    (r"Resource::\*",
     "actions without a narrower resource here: cloudformation:DescribeStacks and s3:ListBucket for the self-mutation's "
     "cdk deploy (stacks of any environment it deploys), codebuild:StartBuild/BatchGetBuilds for the asset step, and the "
     "cross-region replication key, which CDK Pipelines grants through its alias (resource '*'; that key's own policy "
     "trusts only this account)"),
)


def wildcard_reason(finding: str, buckets: Sequence[str] = ()) -> str | None:
    """The reason for one IAM5 finding of a pipeline role; ``buckets`` are the flattened ARNs of this pipeline's own
    artifact buckets (main and cross-region replicas), whose objects its roles read and write."""
    if finding in {f"Resource::{b}/*" for b in buckets}:
        return "the objects of this pipeline's own artifact bucket (one bucket: this pipeline's artifacts only)"
    for pattern, reason in PIPELINE_WILDCARDS:
        if re.fullmatch(pattern, finding):
            return reason
    return None


def _harden_replication_bucket(stack: Stack, bucket: s3.IBucket, region: str) -> None:
    """The cross-region support stack's replication bucket (created by CodePipeline) gets versioning, access logs,
    TLS-only access and its acknowledgments; CodePipeline's support stack leaves all of these out."""
    cfn = bucket.node.default_child
    if not isinstance(cfn, s3.CfnBucket):
        return
    logs = s3.Bucket(
        stack, "ReplicationAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
    )
    cfn.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(status="Enabled")
    cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(destination_bucket_name=logs.bucket_name, log_file_prefix="replication/")
    logs.add_to_resource_policy(iam.PolicyStatement(  # S3 UG: grant the logging service principal, bucket policy form
        sid="S3ServerAccessLogsPolicy", actions=["s3:PutObject"], principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
        resources=[logs.arn_for_objects("replication/*")], conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))
    for b, what in ((cfn, f"CodePipeline's artifact replica for actions in {region}"), (logs, "the replication bucket's access logs")):
        acknowledge_in_packs(b, "S3BucketReplicationEnabled",
            f"holds {what}; artifacts are transient copies of the pipeline's main artifact bucket, which is versioned and retained",
            packs=("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"))
    acknowledge_in_packs(logs, "S3DefaultEncryptionKMS",
        "the S3 server access log destination: S3 log delivery requires SSE-S3", packs=("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"))
    for rule, packs in (("S3BucketLoggingEnabled", ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),):
        acknowledge_in_packs(logs, rule, "this is the access-log destination itself; logging it into itself would loop", packs=packs)
    Validations.of(logs).acknowledge(Acknowledgment(id="AwsSolutions::AwsSolutions-S1",
        reason="this is the access-log destination of the replication bucket; logging it into itself would loop"))
