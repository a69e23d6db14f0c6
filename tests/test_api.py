"""The public API is exactly what docs/api.rst documents, and nothing private leaks into it."""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hyperspy_cmeans

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

#: Public modules and the names they export (``__all__``).
PUBLIC_MODULES = (
    "hyperspy_cmeans",
    "hyperspy_cmeans.cmeans",
    "hyperspy_cmeans.data",
    "hyperspy_cmeans.evaluation",
    "hyperspy_cmeans.results",
)


def documented_names():
    """``{module: {names}}`` of the autosummary and data entries of api.rst."""
    documented = {}
    module = None
    in_autosummary = False
    for line in API_RST.read_text().splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = m.group(1)
        elif m := re.match(r"\.\. data:: (\S+)", line):
            documented.setdefault(module, set()).add(m.group(1))
        elif line.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and re.match(r"^   [A-Za-z_][\w.]*$", line):
            documented.setdefault(module, set()).add(line.strip())
        elif in_autosummary and line and not line.startswith("   "):
            in_autosummary = False
    return documented


def test_every_exported_name_is_documented_and_vice_versa():
    documented = documented_names()
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        exported = set(module.__all__) - {"__version__"}
        names = {n.split(".")[0] for n in documented.get(name, set())}
        assert names == exported, name
    assert set(documented) == set(PUBLIC_MODULES)


def test_exported_names_exist():
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            assert getattr(module, attr) is not None, (name, attr)


def test_documented_methods_exist():
    for entry in documented_names()["hyperspy_cmeans"]:
        if "." in entry:
            owner, method = entry.split(".")
            assert callable(getattr(getattr(hyperspy_cmeans, owner), method)), entry


def test_implementation_modules_are_private():
    """Every module of the package is private, public (above) or the signals registry."""
    allowed = set(PUBLIC_MODULES) | {"hyperspy_cmeans.signals", "hyperspy_cmeans.__main__"}
    for info in pkgutil.walk_packages(hyperspy_cmeans.__path__, "hyperspy_cmeans."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]):
            continue
        assert info.name in allowed, f"{info.name} is public but not documented"


ARRAY_MODULES = (
    "hyperspy_cmeans._calibration",
    "hyperspy_cmeans._features",
    "hyperspy_cmeans._phases",
    "hyperspy_cmeans._clustering",
    "hyperspy_cmeans._drawing",
    "hyperspy_cmeans._counts",
    "hyperspy_cmeans._spatial",
    "hyperspy_cmeans._checks",
    "hyperspy_cmeans._threads",
    "hyperspy_cmeans._sampling",
    "hyperspy_cmeans._single_pass",
    "hyperspy_cmeans.cmeans",
)


@pytest.mark.parametrize("module", ARRAY_MODULES)
def test_array_modules_do_not_handle_signals(module):
    """The array packages never import HyperSpy (signals stay in the signal layer)."""
    root = Path(importlib.import_module(module).__file__).parent
    files = [Path(importlib.import_module(module).__file__)]
    if files[0].name == "__init__.py":
        files = list(root.rglob("*.py"))
    for path in files:
        text = path.read_text()
        assert not re.search(r"^\s*(import hyperspy|from hyperspy[ .])", text, re.M), path
