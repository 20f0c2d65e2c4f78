"""Renders docs/constructs.md from the constructs' own docstrings (so the reference cannot drift from code).

    .venv/bin/python -m tools.render_docs          # rewrite docs/constructs.md
    .venv/bin/python -m tools.render_docs --check  # exit 1 if it is out of date (the tests do this)
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "constructs.md"
CONSTRUCTS = [
    ("gptoss_constructs.network", "PrivateNetwork"),
    ("gptoss_constructs.endpoint", "GptOssEndpoint"),
    ("gptoss_constructs.guardrail", "ModelGuardrail"),
    ("gptoss_constructs.invoke_proxy", "InvokeProxy"),
    ("gptoss_constructs.invoke_proxy", "ProxyRoute"),
    ("gptoss_constructs.front_door", "PrivateApiFrontDoor"),
    ("gptoss_constructs.front_door", "ProxyRoutes"),
    ("gptoss_constructs.bedrock_model", "BedrockFoundationModel"),
    ("gptoss_constructs.roles", "PlatformRoles"),
    ("gptoss_constructs.monitoring", "PlatformMonitoring"),
    ("gptoss_constructs.model_access", "ModelAccessThroughVpcEndpoints"),
    ("gptoss_constructs.model_access", "ModelAccessGuard"),
    ("gptoss_constructs.audit", "AuditTrail"),
]
_PARAM = re.compile(r":param (\w+):\s*(.*?)(?=\n\s*:param |\Z)", re.S)


def _params(doc: str) -> dict[str, str]:
    return {m.group(1): " ".join(m.group(2).split()) for m in _PARAM.finditer(doc or "")}


def _annotation(p: inspect.Parameter) -> str:
    a = p.annotation
    text = a if isinstance(a, str) else getattr(a, "__name__", str(a))
    return str(text).replace("|", "\\|")


def render() -> str:
    out = [
        "# Construct reference",
        "",
        "Generated from the docstrings by `.venv/bin/python -m tools.render_docs` — edit the code, not this file.",
        "Examples of using each construct alone: `examples/` (a third model route, only a guardrail, an endpoint in",
        "an existing VPC, and a separate app installing the wheel). Narrative docs: `constructs/README.md`.",
        "",
    ]
    for module_name, class_name in CONSTRUCTS:
        cls = getattr(importlib.import_module(module_name), class_name)
        out += [f"## {class_name}", "", f"`from {module_name} import {class_name}`", ""]
        doc = inspect.cleandoc(cls.__doc__ or "")
        out += [doc.split(":param")[0].strip(), ""]
        init = cls.__init__ if "__init__" in cls.__dict__ else None
        params = _params(inspect.getdoc(init) or "") if init else _params(cls.__doc__ or "")
        sig = inspect.signature(init or cls)
        rows = [
            (name, _annotation(p), params.get(name, ""), "required" if p.default is inspect.Parameter.empty else "")
            for name, p in sig.parameters.items()
            if name not in ("self", "scope", "id") and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        if rows:
            out += ["| Prop | Type | Description |", "| --- | --- | --- |"]
            out += [f"| `{n}` | `{t}` | {(r + '. ' if r else '') + d} |" for n, t, d, r in rows]
            out.append("")
        methods = [
            (name, inspect.getdoc(fn).splitlines()[0] if inspect.getdoc(fn) else "")
            for name, fn in cls.__dict__.items()
            if callable(fn) and not name.startswith("_") and name not in ("sagemaker", "bedrock")
        ]
        factories = [name for name in ("sagemaker", "bedrock") if name in cls.__dict__]
        if methods or factories:
            out += ["Methods:", ""]
            out += [f"- `{name}()` — {first}" if first else f"- `{name}()`" for name, first in methods]
            out += [f"- `{class_name}.{name}(model, ...)` — a route to that backend" for name in factories]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    text = render()
    if argv and "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/constructs.md is out of date: run .venv/bin/python -m tools.render_docs")
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
