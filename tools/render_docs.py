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
    ("gptoss_constructs.endpoint", "ImportedEndpoint"),
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
    ("gptoss_constructs.pipeline", "PlatformPipeline"),
    ("gptoss_constructs.pipeline", "StageVerifyRole"),
]
_PARAM = re.compile(r":param (\w+):\s*(.*?)(?=\n\s*:param |\Z)", re.S)


def _params(doc: str) -> dict[str, str]:
    return {m.group(1): " ".join(m.group(2).split()) for m in _PARAM.finditer(doc or "")}


def _annotation(p: inspect.Parameter) -> str:
    a = p.annotation
    text = a if isinstance(a, str) else getattr(a, "__name__", str(a))
    return str(text).replace("|", "\\|")



def _ours(klass: type) -> bool:
    """Classes of this library (a construct's own class and its private bases), not aws-cdk-lib's or constructs'."""
    return klass.__module__.startswith("gptoss_constructs")


def _summary(obj: object) -> str:
    """The first sentence of the docstring's first paragraph, on one line."""
    doc = inspect.getdoc(obj) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z`(]|$)", paragraph)
    return (match.group(1) if match else paragraph).replace("|", "\\|")


def _signature(fn) -> str:
    """``(a: int, *, b: str = 'x') -> T`` with the annotations as written (they are strings under
    ``from __future__ import annotations``) and without ``self`` / ``cls``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return "(...)"

    def text(annotation) -> str:
        return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))

    parts, star = [], False
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            parts.append("*")
        star = star or p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_POSITIONAL)
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(p.kind, "")
        part = prefix + p.name
        if p.annotation is not inspect.Parameter.empty:
            part += f": {text(p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            part += f" = {p.default!r}"
        parts.append(part)
    quotes = "\"'"
    returns = "" if sig.return_annotation is inspect.Signature.empty else f" -> {text(sig.return_annotation).strip(quotes)}"
    return f"({', '.join(parts)}){returns}"


def public_methods(cls: type) -> list[tuple[str, str, str]]:
    """(name, call, one-line doc) of every public method of ``cls``: its own and those inherited from this library's
    base classes (not from ``constructs.Construct`` or aws-cdk-lib), classmethods and staticmethods included."""
    seen: dict[str, tuple[str, str, str]] = {}
    for klass in cls.__mro__:
        if not _ours(klass):
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            if isinstance(raw, (classmethod, staticmethod)):
                fn = getattr(cls, name)
                seen[name] = (name, f"{cls.__name__}.{name}{_signature(fn)}", _summary(fn))
            elif inspect.isfunction(raw):
                seen[name] = (name, f"{name}{_signature(raw)}", _summary(getattr(cls, name)))
    return sorted(seen.values(), key=lambda m: (not m[1].startswith(f"{cls.__name__}."), m[0]))


def render() -> str:
    out = [
        "# Construct reference",
        "",
        "Generated from the docstrings by `.venv/bin/python -m tools.render_docs` — edit the code, not this file.",
        "Each construct lists its props and its whole public surface: its methods, those it inherits from the library's",
        "base classes (`grant_*`, `metric_*`), and its `from_*` / factory classmethods, with signature and one-line doc.",
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
        methods = public_methods(cls)
        if methods:
            out += ["Methods:", ""]
            out += [f"- `{call}` — {doc}" if doc else f"- `{call}`" for _, call, doc in methods]
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
