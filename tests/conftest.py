"""Shared fixtures: the project's CDK context, and the real app synthesized once per test session."""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# jsii prints an end-of-life banner on Node 20; `make test` puts Node 22 first on PATH, this covers direct runs.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# In-process test apps skip aws-cdk-lib's built-in CloudFormation validation, as app.py does (its WASM engine costs
# ~8 s to compile on the first synth of a session); tests/test_lint.py runs cfn-lint itself on the app's templates.
# (Read by aws-cdk-lib's synthesis-validation: `CDK_VALIDATION=false` disables the built-in plugin.)
os.environ.setdefault("CDK_VALIDATION", "false")

#: the regions the session app is synthesized for (SageMaker in us-east-1, Bedrock-only in us-west-2)
APP_REGIONS = ("us-east-1", "us-west-2")
#: session fixtures that synthesize a whole app: every test using one is marked ``slow``
APP_FIXTURES = {"platform_app", "all_regions_app", "broken_app", "lint_results"}
#: modules whose tests synthesize whole apps themselves (a wheel + example app, app.py runs, the CDK CLI)
#: (test_preflight.py: the deploy-time checks against botocore stubs, ~0.2 s of CPU per test, are not constructs,
#: config or proxy tests, which is what `make test-fast` is for)
SLOW_MODULES = {"test_app.py", "test_library.py", "test_security_projection.py", "test_preflight.py"}
#: single tests that synthesize a whole app in-process or run a client in another venv (seconds each, CPU-bound):
#: `make test` runs them, `make test-fast` (<= 30 s wall on 2 cores) not. Node ids relative to tests/ (a class
#: or a test without its parameters covers all of them).
SLOW_TESTS = {
    "test_platform_stacks.py::test_inference_profile_route_synthesizes_nag_clean_and_calls_the_profile",
    "proxy/test_responses_agents.py::test_openai_agents_default_model_runs_tools_streams_and_output_type",
    "proxy/test_clients_agents.py::test_openai_agents_and_pydantic_ai_get_the_pydantic_object",
    "proxy/test_clients_params.py::TestLangChain",  # LangChain's client stack: ~1 s of CPU per test
}
#: pytest-xdist work units (``--dist loadgroup`` in the Makefile selects the scheduler below): the modules on the
#: all-regions app and the lint results (which also need the two-region app) run on one worker, the other modules
#: on the two-region app on another, so each app is synthesized at most twice per run and the two halves overlap
APP_GROUP = "session-apps"
LINT_GROUP = "session-apps-lint"
LINT_MODULES = {"tests/test_lint.py", "tests/test_nag_report.py"}
_USES_APP = re.compile(r"def test_\w+\([^)]*\b(" + "|".join(sorted(APP_FIXTURES)) + r")\b", re.S)
_SHARED_FIXTURE = re.compile(r"@pytest\.fixture\([^)]*scope=[\"'](module|class|package)[\"']")


def app_modules() -> set[str]:
    """Test modules (paths relative to the repository) with a test on a session app, read from their source: the
    xdist controller schedules by node id and has no collected items to ask."""
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py") if _USES_APP.search(p.read_text())}


def shared_fixture_modules() -> set[str]:
    """Test modules defining a module- or class-scoped fixture (a synthesized stack, a proxy over the emulators),
    read from their source as ``app_modules`` is: split over two workers, each worker would build it again."""
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py") if _SHARED_FIXTURE.search(p.read_text())}


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` as this suite needs it. pytest-xdist 3.8's own loadgroup reads ``xdist_group`` marks
    by rewriting ``item._nodeid``, which pytest 9.2 no longer uses for ``nodeid`` (it keeps ``_id``), so its groups
    are silently ignored. Here the work units are: the two groups of modules on the session apps, each module with a
    module- or class-scoped fixture (built once, not once per worker; tests/test_types.py: one pyright run), and
    every other test on its own (as ``--dist load``). xdist queues larger units first, so the single tests come last
    and even out the two workers' ends."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    grouped, whole = app_modules(), shared_fixture_modules() | {"tests/test_types.py"}

    class SessionAppScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in grouped:
                return LINT_GROUP if module in LINT_MODULES else APP_GROUP
            return module if module in whole else nodeid

    return SessionAppScheduling(config, log)


def _exit_without_interpreter_teardown() -> None:
    """An xdist worker's last exit handler: after the other handlers (registered later, so run first: jsii stops its
    Node process, pytest removes its locks) the process ends without tearing down the interpreter, which frees
    every object of the aws_cdk, botocore and openai modules one by one (~2 s of CPU per worker, while the
    controller waits). The worker's results and exit status already reached the controller over execnet; an
    uncaught exception (``sys.last_value``) still exits the normal way, with its status."""
    if getattr(sys, "last_value", None) is not None:
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):  # conftest is imported before any test module starts jsii
    atexit.register(_exit_without_interpreter_teardown)


def pytest_configure(config) -> None:
    # The garbage collector's full collections walk the whole heap, which the aws_cdk, jsii, botocore and openai
    # modules make ~1M objects: at CPython's default thresholds (700, 10, 10) a worker ran about ten of them per run
    # (~2.5 s of CPU). Young generations are still collected as usual; a full collection now waits for 1,000
    # collections of the middle one, which a run does not reach (the heap grows by tens of MB at most).
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)
    config.addinivalue_line(
        "markers", "slow: synthesizes a whole app (the session app, app.py or the CDK CLI) or is a property-based "
        "test with many examples; `make test-fast` skips it"
    )


def pytest_collection_modifyitems(config, items) -> None:
    """App-level tests are marked ``slow`` here, from the fixtures they use, so a new test on the session app
    can never land in ``make test-fast`` by forgetting a decorator. Property-based tests (hypothesis ``@given``,
    each runs its 80-150 generated examples) are marked ``slow`` too: `make test` runs them, the fast loop not."""
    slow = pytest.mark.slow
    for item in items:
        uses_app = bool(APP_FIXTURES & set(getattr(item, "fixturenames", ())))
        node = item.nodeid.removeprefix("tests/")
        app_level = uses_app or item.path.name in SLOW_MODULES or any(node == t or node.startswith((f"{t}::", f"{t}[")) for t in SLOW_TESTS)
        if app_level or getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(slow)


def project_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context (feature flags and defaults) with ``overrides`` applied, as the CLI would pass it."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(overrides)
    return context


def make_app(**overrides: Any):
    """An App with the project's feature flags, for construct tests (no synth to disk)."""
    from aws_cdk import App

    return App(context=project_context(**overrides))


@dataclass
class SynthResult:
    """A cloud assembly written by ``python app.py``, exactly as ``cdk synth`` runs it."""

    outdir: Path
    returncode: int
    stderr: str

    def template(self, stack: str) -> dict:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())

    def stacks(self) -> list[str]:
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        return sorted(k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack")

    def manifest_env(self, stack: str) -> str:
        return json.loads((self.outdir / "manifest.json").read_text())["artifacts"][stack]["environment"]

    def validation_report(self) -> dict:
        return json.loads((self.outdir / "validation-report.json").read_text())

    def acknowledgments(self, stack: str) -> dict[str, dict[str, str]]:
        """construct path → {finding id: reason} from ``<stack>.metadata.json``."""
        metadata = json.loads((self.outdir / f"{stack}.metadata.json").read_text())
        acks: dict[str, dict[str, str]] = {}
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acks.setdefault(path, {}).update(entry["data"])  # one entry per acknowledge() call
        return acks


def run_app(outdir: Path, env_overrides: dict[str, str] | None = None, **context: Any) -> SynthResult:
    """Runs app.py the way the CDK CLI does (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR), with no
    AWS credentials or account in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        CDK_CONTEXT_JSON=json.dumps(project_context(**context)),
        CDK_OUTDIR=str(outdir),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(env_overrides or {})
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    return SynthResult(outdir=outdir, returncode=proc.returncode, stderr=proc.stderr)


@pytest.fixture(scope="session")
def platform_app(tmp_path_factory) -> SynthResult:
    """The full app for two regions, synthesized once per session with all five nag packs."""
    result = run_app(tmp_path_factory.mktemp("cdk.out"), regions=",".join(APP_REGIONS))
    assert result.returncode == 0, f"app.py failed:\n{result.stderr[-4000:]}"
    return result


def all_regions_context() -> dict[str, Any]:
    """Context for every region the catalog supports at once, with no per-region override: each region takes the
    catalog's defaults (gpt-oss-20b on SageMaker where JumpStart offers it, else the region's Bedrock models)."""
    from gptoss_constructs import catalog

    return {"regions": ",".join(catalog.supported_regions())}


@pytest.fixture(scope="session")
def all_regions_app(tmp_path_factory) -> SynthResult:
    """The app for every supported region, synthesized once per session (compliance and lint tests)."""
    result = run_app(tmp_path_factory.mktemp("cdk.out.all"), **all_regions_context())
    assert result.returncode == 0, f"app.py failed:\n{result.stderr[-4000:]}"
    return result


def build_broken_stacks(outdir: Path) -> None:
    """Deliberately non-compliant stacks, checked through the app's own ``attach_compliance``: (a) a log group
    without KMS, (b) a policy with a wildcard action, (c) a VPC with public subnets behind an internet gateway.
    Synth fails (ValidationFailed) after writing templates and validation-report.json to ``outdir``."""
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs

    from stacks.compliance import attach_compliance

    app = App(context=project_context(), outdir=str(outdir))
    attach_compliance(app)
    env = Environment(region="us-east-1")
    stack = Stack(app, "Broken-LogGroup", env=env)
    logs.LogGroup(stack, "Plain", retention=logs.RetentionDays.ONE_YEAR)  # (a) not KMS-encrypted
    stack = Stack(app, "Broken-Iam", env=env)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    iam.ManagedPolicy(  # (b) wildcard action on every resource
        stack, "Wildcard", roles=[role], statements=[iam.PolicyStatement(actions=["*"], resources=["*"])]
    )
    stack = Stack(app, "Broken-PublicSubnet", env=env)
    ec2.Vpc(  # (c) public subnets: internet gateway, 0.0.0.0/0 routes, public IPs on launch, no flow log
        stack, "Vpc", max_azs=2, nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
    )
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()


@pytest.fixture(scope="session")
def broken_app(tmp_path_factory) -> SynthResult:
    outdir = tmp_path_factory.mktemp("cdk.out.broken")
    build_broken_stacks(outdir)
    return SynthResult(outdir=outdir, returncode=1, stderr="")


@pytest.fixture(scope="session")
def lint_results(platform_app, all_regions_app, broken_app) -> dict[str, Any]:
    """cfn-lint and checkov, each run ONCE per session over every template of the three assemblies
    (checkov takes seconds to start). Findings are keyed back to their template file."""
    from tools import lint

    files = lint.templates(platform_app.outdir, all_regions_app.outdir, broken_app.outdir)
    return {"templates": files, "cfn_lint": lint.cfn_lint(files), "checkov": lint.checkov(files)}
