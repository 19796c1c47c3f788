"""Import rules of the design (docs/architecture.md): layers only point down.

Checked statically on the source (every ``import``/``from`` statement, also inside
functions), so a lazy import cannot hide a reach back upstream: evaluation (rates, tables,
kernels, likelihoods, scans, statistics) never imports the build step (the face registers
it, ``cevnsfast.build_tables.enable_builds``); ``physics`` knows no detector, model or
reference twin; likelihoods return numbers and never draw.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cevnsfast"

# module prefix (dotted, under cevnsfast) -> forbidden import prefixes
RULES = {
    "cevnsfast.physics": (
        "cevnsfast.detectors",
        "cevnsfast.models",
        "cevnsfast.reference",
        "cevnsfast.build_tables",
    ),
    "cevnsfast.model_tables": ("cevnsfast.build_tables",),
    "cevnsfast.rates": ("cevnsfast.build_tables",),
    "cevnsfast.tables": ("cevnsfast.build_tables",),
    "cevnsfast.kernels": ("cevnsfast.build_tables",),
    "cevnsfast.profile_kernels": ("cevnsfast.build_tables",),
    "cevnsfast.likelihood": (
        "cevnsfast.build_tables",
        "cevnsfast.plots",
        "cevnsfast.figures",
        "cevnsfast.report",
        "matplotlib",
    ),
    "cevnsfast.scan": ("cevnsfast.build_tables",),
    "cevnsfast.stats": ("cevnsfast.build_tables",),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _module(path: Path) -> str:
    return ".".join(("cevnsfast", *path.relative_to(PACKAGE).with_suffix("").parts))


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_point_down(layer):
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        if module != layer and not module.startswith(layer + "."):
            continue
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in RULES[layer]):
                violations.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not violations, "\n".join(violations)
