"""The frame of ``make verify``: results, the per-region context, stack discovery, evidence files, the command.

A check is a function ``(ctx: RegionContext) -> Iterable[Result]``. It calls AWS only through
``ctx.client(service)`` (tests point those clients at a moto server or stub them) and reads the deployed stacks
through ``ctx.stack(kind)`` (CloudFormation DescribeStacks + ListStackResources, once per stack).

A result is PASS only when the check saw AWS answer the way the platform assumes; a different answer is FAIL,
and so is no answer within the check's wait (never pass on silence). SKIP says why the check does not apply
(e.g. ``audit_trail`` is off) — it is evidence too, and never hides a FAIL.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from tools.preflight import caller_account as preflight_caller_account
from tools.preflight import config_from_args, error_code, no_credentials, open_session

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports" / "verify"
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


@dataclass(frozen=True)
class Result:
    """One check's verdict on one subject (a model, a log group, a route) with the evidence it saw."""

    check: str
    region: str
    status: str
    summary: str
    subject: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        subject = f" [{self.subject}]" if self.subject else ""
        return f"{self.status:4}  {self.region:14} {self.check}{subject}: {self.summary}"


@dataclass(frozen=True)
class StackInfo:
    """A deployed stack as CloudFormation describes it."""

    name: str
    status: str
    outputs: Mapping[str, str]
    output_descriptions: Mapping[str, str]
    resources: Sequence[Mapping[str, str]]  # LogicalResourceId, PhysicalResourceId, ResourceType, ResourceStatus

    def physical_ids(self, resource_type: str) -> list[str]:
        return [r["PhysicalResourceId"] for r in self.resources if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")]


@dataclass
class RegionContext:
    """What a check may look at: the region's typed config, an AWS client factory, the deployed stacks."""

    region: str
    account: str
    config: Any  # stacks.config.PlatformConfig
    clients: Callable[[str, str], Any]
    #: seconds a check waits for an asynchronous answer (alarm history, function state); tests shorten it
    wait_seconds: float = 120.0
    poll_seconds: float = 5.0
    sleep: Callable[[float], None] = field(default=None)  # type: ignore[assignment]
    #: tests: a function payload -> answer standing in for the verifier function (routes.check_routes)
    route_runner: Callable[[dict], dict] | None = None
    _cache: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sleep is None:
            import time

            self.sleep = time.sleep

    @property
    def rc(self):
        return self.config.for_region(self.region)

    def client(self, service: str):
        key = ("client", service)
        if key not in self._cache:
            self._cache[key] = self.clients(service, self.region)
        return self._cache[key]

    def stack(self, kind: str) -> StackInfo | None:
        """``GptOss-<kind>-<region>`` as deployed, or None when it does not exist."""
        from stacks.platform import stack_name

        key = ("stack", kind)
        if key not in self._cache:
            self._cache[key] = describe_stack(self.client("cloudformation"), stack_name(kind, self.region))
        return self._cache[key]

    def template(self, kind: str) -> dict:
        """The template CloudFormation last applied to the stack (``GetTemplate``, stage Original)."""
        from stacks.platform import stack_name

        key = ("template", kind)
        if key not in self._cache:
            body = self.client("cloudformation").get_template(StackName=stack_name(kind, self.region))["TemplateBody"]
            self._cache[key] = body if isinstance(body, Mapping) else json.loads(body)
        return self._cache[key]


def describe_stack(cfn, name: str) -> StackInfo | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except Exception as err:  # noqa: BLE001
        if error_code(err) == "ValidationError":  # "Stack with id ... does not exist"
            return None
        raise
    if not stacks:
        return None
    s = stacks[0]
    resources: list[dict] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        resources += page.get("StackResourceSummaries", [])
    return StackInfo(
        name=name,
        status=s["StackStatus"],
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in s.get("Outputs", [])},
        output_descriptions={o["OutputKey"]: o.get("Description", "") for o in s.get("Outputs", [])},
        resources=resources,
    )


# ---- running -------------------------------------------------------------------------------------------------


def run_region(ctx: RegionContext, checks: Sequence[Callable[[RegionContext], Iterable[Result]]]) -> list[Result]:
    results: list[Result] = []
    for check in checks:
        try:
            results.extend(check(ctx))
        except Exception as err:  # noqa: BLE001 - one broken check must not hide the others
            name = getattr(check, "check_id", check.__name__.removeprefix("check_").replace("_", "-"))
            results.append(Result(name, ctx.region, FAIL, f"could not run ({error_code(err)}: {err})",
                                  evidence={"error": error_code(err), "message": str(err)[:500]}))
    return results


# ---- evidence --------------------------------------------------------------------------------------------------


def commit_of(root: Path = ROOT) -> str:
    """The checked-out commit (``-dirty`` with local changes), or ``unknown`` outside a git work tree."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def evidence_document(*, region: str, account: str, results: Sequence[Result], cdk_args: Sequence[str], commit: str,
                      date: datetime.datetime) -> dict:
    counts = {s: sum(1 for r in results if r.status == s) for s in (PASS, FAIL, SKIP)}
    return {
        "kind": "gpt-oss-platform deployed-state evidence (make verify)",
        "date": date.isoformat(timespec="seconds"),
        "commit": commit,
        "account": account,
        "region": region,
        "cdk_args": list(cdk_args),
        "counts": counts,
        "verdict": FAIL if counts[FAIL] else PASS,
        "results": [{k: v for k, v in asdict(r).items() if k != "region"} for r in results],
    }


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def evidence_markdown(doc: Mapping[str, Any]) -> str:
    lines = [
        f"# Deployed-state evidence: {doc['region']}",
        "",
        "Written by `make verify` (tools/verify). Each check is PASS only when AWS answered as the platform assumes;",
        "the evidence column is what it saw. Regenerate after every deploy; do not edit by hand.",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {doc['date']} |",
        f"| commit | `{doc['commit']}` |",
        f"| account | {doc['account']} |",
        f"| region | {doc['region']} |",
        f"| CDK_ARGS | `{' '.join(doc['cdk_args'])}` |",
        f"| verdict | **{doc['verdict']}** ({doc['counts'][PASS]} pass, {doc['counts'][FAIL]} fail, {doc['counts'][SKIP]} skip) |",
        "",
        "| Check | Subject | Status | Summary | Evidence |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in doc["results"]:
        evidence = json.dumps(r["evidence"], sort_keys=True, default=str)
        if len(evidence) > 600:
            evidence = evidence[:600] + "… (full text in the .json)"
        lines.append(f"| `{r['check']}` | {_cell(r['subject'])} | {r['status']} | {_cell(r['summary'])} | `{_cell(evidence)}` |")
    return "\n".join(lines) + "\n"


def write_evidence(doc: Mapping[str, Any], directory: Path = REPORTS) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    js, md = directory / f"{doc['region']}.json", directory / f"{doc['region']}.md"
    js.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
    md.write_text(evidence_markdown(doc))
    return js, md


# ---- the command -----------------------------------------------------------------------------------------------

NO_CREDENTIALS = no_credentials("verify")


def caller_account(session) -> tuple[str | None, str]:
    """(account, "") for usable credentials, else (None, one line saying what is missing or wrong): preflight's
    check, asked before any config is loaded. The region of STS does not matter: a session without a default
    region asks us-east-1."""
    return preflight_caller_account(session, getattr(session, "region_name", None) or "us-east-1", tool="verify")


def main(argv: Sequence[str] | None = None, session=None, checks=None, reports: Path | None = None,
         now: Callable[[], datetime.datetime] | None = None) -> int:
    import argparse

    from tools.verify import checks as registry

    parser = argparse.ArgumentParser(prog="python -m tools.verify", description="make verify: prove the deployed stacks on AWS")
    parser.add_argument("--profile", help="AWS profile (default: the SDK's default chain)")
    parser.add_argument("--skip-routes", action="store_true",
                        help="resources only: do not deploy the short-lived verifier function (no request through the API)")
    parser.add_argument("--wait", type=float, default=180.0, help="seconds to wait for asynchronous answers (default 180)")
    args, cdk_args = parser.parse_known_args(argv)
    if session is None:
        session = open_session(args.profile, "verify")
        if session is None:
            return 2
    account, problem = caller_account(session)  # first: without credentials, stop before loading anything else
    if account is None:
        print(problem, file=sys.stderr)
        return 2
    config = config_from_args(cdk_args, "verify")
    if config is None:
        return 2
    selected = checks if checks is not None else registry.checks(routes=not args.skip_routes)
    commit = commit_of()
    from botocore.config import Config

    # the verifier's one invocation runs every probe (up to 15 minutes); other calls answer in seconds
    long_reads = Config(read_timeout=900, retries={"max_attempts": 3, "mode": "standard"})

    def clients(service: str, region: str):
        return session.client(service, region_name=region, config=long_reads)

    failed = 0
    for region in config.regions:
        ctx = RegionContext(region=region, account=account, config=config,
                            clients=clients, wait_seconds=args.wait)
        results = run_region(ctx, selected)
        for r in results:
            print(r.line())
        doc = evidence_document(region=region, account=account, results=results, cdk_args=cdk_args, commit=commit,
                                date=(now or (lambda: datetime.datetime.now(datetime.timezone.utc)))())
        js, md = write_evidence(doc, reports or REPORTS)
        counts = doc["counts"]
        shown = md.relative_to(ROOT) if md.is_relative_to(ROOT) else md
        print(f"verify: {region}: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[SKIP]} skip -> {shown} (and .json)")
        failed += counts[FAIL]
    return 1 if failed else 0
