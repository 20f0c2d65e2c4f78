"""The constructs as a library: the project's wheel, installed alone, gives another CDK app gptoss_constructs
(and the proxy's Lambda asset) without this repository's app or stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "library-app"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built once per module (``pip wheel --no-deps``)."""
    import shutil
    import time

    dist = tmp_path_factory.mktemp("dist")
    start = time.perf_counter()
    # built from a copy of the tracked files: setuptools writes build/ and *.egg-info into the tree it builds, and
    # another pytest-xdist worker may be using the repository's build/ at the same moment
    src = tmp_path_factory.mktemp("src")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, tracked):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(dist)], capture_output=True, text=True)
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stderr[-3000:]}"
    print(f"wheel built in {time.perf_counter() - start:.1f} s")
    (built,) = dist.glob("gpt_oss_platform-*.whl")
    return built


@pytest.fixture(scope="module")
def site(tmp_path_factory, wheel) -> Path:
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    return site


def _env(site: Path, outdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(PYTHONPATH=str(site), CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(json.loads((EXAMPLE / "cdk.json").read_text())["context"]))
    return env


def test_the_wheel_holds_the_library_and_the_asset_but_not_the_app(site):
    assert (site / "gptoss_constructs" / "catalog" / "gpt_oss.json").is_file()
    assert (site / "gptoss_constructs" / "policies" / "strict.yaml").is_file()
    assert (site / "gptoss_invoke_proxy_asset" / "handler.py").is_file()
    assert (site / "gptoss_invoke_proxy_asset" / "gptoss_proxy" / "core" / "service.py").is_file()
    # the Web Adapter starts run.sh: the wheel keeps its executable bit from git (nothing chmods at import time)
    assert os.access(site / "gptoss_invoke_proxy_asset" / "run.sh", os.X_OK)
    assert not (site / "stacks").exists() and not (site / "app.py").exists() and not (site / "tests").exists()


def test_a_separate_app_synthesizes_with_two_of_our_constructs_from_the_wheel(site, tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", "import gptoss_constructs.guardrail as g, constructs; print(g.__file__); print(constructs.Construct.__module__)"],
        cwd=EXAMPLE, env=_env(site, tmp_path), capture_output=True, text=True, check=True,
    )
    assert probe.stdout.splitlines()[0].startswith(str(site))  # the wheel's copy, not this repository's
    result = subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=_env(site, tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "TeamGuardrail.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::EC2::VPC", "AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion", "AWS::IAM::Policy"} <= types
    (guardrail,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Bedrock::Guardrail"]
    assert guardrail["Properties"]["SensitiveInformationPolicyConfig"]["RegexesConfig"][0]["Name"] == "Employee ID"


# ---- acceptance of issue 24: a platform team's app from the wheel, in a fresh venv, outside the repository -----

TEAM_APP = ROOT / "examples" / "team-app"


@pytest.fixture(scope="module")
def team_app(tmp_path_factory, wheel) -> dict:
    """Installs the wheel (``--no-deps --no-index``) into a NEW venv outside the repository whose only
    other packages are this venv's site-packages added by a ``.pth`` line (a path line adds the directory, it does
    not run the editable install's finder there), copies examples/team-app out of the repository and runs it
    with that venv's python, as a team would run ``cdk synth``. Records how long each step took."""
    import shutil
    import sysconfig
    import time

    base = tmp_path_factory.mktemp("team")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", "--no-compile", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "_repo_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # aws-cdk-lib, cdk-nag, ... (installed after the wheel)
    timings["venv+install"] = time.perf_counter() - start

    app_dir = base / "team-app"
    shutil.copytree(TEAM_APP, app_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_", "PYTHON"))}
    out = base / "cdk.out"
    env.update(CDK_OUTDIR=str(out), CDK_CONTEXT_JSON=json.dumps(json.loads((app_dir / "cdk.json").read_text())["context"]))
    start = time.perf_counter()
    probe = subprocess.run([str(python), "-c", "import gptoss_constructs.invoke_proxy as p; print(p.__file__); print(p.DEFAULT_CODE_PATH)"],
                           cwd=app_dir, env=env, capture_output=True, text=True, check=True)
    result = subprocess.run([str(python), "app.py"], cwd=app_dir, env=env, capture_output=True, text=True)
    timings["synth"] = time.perf_counter() - start
    print(f"team app from the wheel: {', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}")
    return {"site": site, "probe": probe.stdout.splitlines(), "result": result, "out": out, "timings": timings, "app": app_dir / "app.py"}


def _team_template(team_app: dict, stack: str) -> dict:
    return json.loads((team_app["out"] / f"{stack}.template.json").read_text())


def _of_type(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.mark.slow
class TestTeamAppFromTheWheel:
    def test_runs_from_the_wheel_in_a_fresh_venv_outside_the_repository(self, team_app):
        module, code = team_app["probe"]
        assert module.startswith(str(team_app["site"])) and not module.startswith(str(ROOT))
        assert code.startswith(str(team_app["site"]))  # the proxy's Lambda asset is the wheel's copy
        assert not str(team_app["app"]).startswith(str(ROOT))
        assert team_app["result"].returncode == 0, team_app["result"].stderr[-4000:]

    def test_uses_only_the_public_surface(self, team_app):
        import ast

        tree = ast.parse(team_app["app"].read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        ours = {m for m in modules if m.startswith("gptoss")}
        assert ours and not [m for m in ours if any(part.startswith("_") for part in m.split("."))], ours
        assert not [m for m in modules if m.split(".")[0] in ("stacks", "tests", "tools")]

    def test_all_five_nag_packs_are_clean_with_no_warning(self, team_app):
        report = json.loads((team_app["out"] / "validation-report.json").read_text())
        packs = {p["pluginName"]: p for p in report["pluginReports"]}
        assert set(packs) == {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}
        assert [(n, v["ruleName"]) for n, p in packs.items() for v in p["violations"]] == []
        assert "[Warning" not in team_app["result"].stderr and "WARNING" not in team_app["result"].stderr

    def test_an_imported_vpc_with_one_endpoint(self, team_app):
        t = _team_template(team_app, "TeamImportedVpc")
        assert not _of_type(t, "AWS::EC2::VPC") and len(_of_type(t, "AWS::SageMaker::Endpoint")) == 1
        (model,) = _of_type(t, "AWS::SageMaker::Model")
        assert model["Properties"]["VpcConfig"]["Subnets"] == ["subnet-0aaa1111", "subnet-0bbb2222"]
        interface = [e["Properties"]["ServiceName"] for e in _of_type(t, "AWS::EC2::VPCEndpoint") if e["Properties"].get("VpcEndpointType") == "Interface"]
        assert interface == ["com.amazonaws.us-east-1.sagemaker.runtime"]  # only the one it lacked (plus the S3 gateway)
        (group,) = [g for g in _of_type(t, "AWS::Logs::LogGroup") if "/aws/sagemaker/Endpoints/" in json.dumps(g["Properties"].get("LogGroupName"))]
        assert group["Properties"]["RetentionInDays"] == 180  # logs.RetentionDays, as on every construct

    def test_a_guardrail_used_alone(self, team_app):
        t = _team_template(team_app, "TeamGuardrail")
        (guardrail,) = _of_type(t, "AWS::Bedrock::Guardrail")
        assert guardrail["Properties"]["Name"] == "team-support-bot"
        assert not _of_type(t, "AWS::IAM::Policy") and not _of_type(t, "AWS::EC2::VPC")
        (policy,) = _of_type(t, "AWS::IAM::ManagedPolicy")
        assert "bedrock:ApplyGuardrail" in json.dumps(policy)

    def test_the_proxy_on_the_teams_own_api(self, team_app):
        t = _team_template(team_app, "TeamOwnApi")
        (api,) = _of_type(t, "AWS::ApiGateway::RestApi")
        assert api["Properties"]["Name"] == "team-llm-api"
        methods = _of_type(t, "AWS::ApiGateway::Method")
        assert len(methods) == 6 and all(m["Properties"]["Integration"]["ResponseTransferMode"] == "STREAM" for m in methods)
        assert all(json.dumps(m["Properties"]["Integration"]["Uri"]).endswith('/response-streaming-invocations"]]}') for m in methods)
        (fn,) = [f for f in _of_type(t, "AWS::Lambda::Function") if f["Properties"].get("FunctionName") == "team-gptoss-proxy"]
        assert fn["Properties"]["Role"]["Fn::GetAtt"][0].startswith("ProxyRole")
        assert fn["Properties"]["VpcConfig"]["SecurityGroupIds"][0]["Fn::GetAtt"][0].startswith("ProxySg")
        caller = [p for p in _of_type(t, "AWS::IAM::ManagedPolicy") if p["Properties"]["Roles"][0]["Ref"].startswith("Caller")]
        (statement,) = caller[0]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "execute-api:Invoke" and len(statement["Resource"]) == 6

    def test_a_model_the_catalog_does_not_know(self, team_app):
        t = _team_template(team_app, "TeamFineTune")
        (model,) = _of_type(t, "AWS::SageMaker::Model")
        container = model["Properties"]["PrimaryContainer"]
        assert container["Image"] == "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/gpt-oss-lmi:0.38.0-lmi29.0.0-cu130-ft"
        # registered through catalog.HostingSpec.custom: its own name, and the host AMI its CUDA 13 image needs
        (config,) = _of_type(t, "AWS::SageMaker::EndpointConfig")
        assert config["Properties"]["ProductionVariants"][0]["InferenceAmiVersion"] == "al2023-ami-sagemaker-inference-gpu-4-1"
        assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://team-models-111122223333/gpt-oss-20b-ft/v3/"
        (fn,) = [f for f in _of_type(t, "AWS::Lambda::Function") if f["Properties"].get("Runtime") == "python3.14"]
        assert set(json.loads(fn["Properties"]["Environment"]["Variables"]["GPTOSS_ROUTES"])) == {"gpt-oss-20b-ft"}

    def test_the_fine_tunes_image_repository_is_granted(self, team_app):
        t = _team_template(team_app, "TeamFineTune")
        assert "repository/team/gpt-oss-lmi" in json.dumps(_of_type(t, "AWS::IAM::ManagedPolicy"))

    def test_changed_defaults(self, team_app):
        t = _team_template(team_app, "TeamDefaults")
        (fn,) = [f for f in _of_type(t, "AWS::Lambda::Function") if f["Properties"].get("Runtime") == "python3.14"]
        props = fn["Properties"]
        assert (props["MemorySize"], props["Timeout"], props["Architectures"]) == (2048, 600, ["x86_64"])
        (stage,) = _of_type(t, "AWS::ApiGateway::Stage")
        assert stage["Properties"]["StageName"] == "v1" and stage["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == 50
        assert not _of_type(t, "AWS::ApiGateway::Account")
        (topic,) = _of_type(t, "AWS::SNS::Topic")  # the team's: the monitoring made none
        (topic_id,) = [k for k, r in t["Resources"].items() if r is topic]
        alarms = _of_type(t, "AWS::CloudWatch::Alarm")
        assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
        assert {g["Properties"].get("RetentionInDays") for g in _of_type(t, "AWS::Logs::LogGroup")} >= {90, 731}
