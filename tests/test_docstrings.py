"""The examples in the package's docstrings run and print what they show (doctests).

Collected from the installed package (not the source tree), module by module.
"""

import doctest
import importlib
import pkgutil

import pytest

import hyperspy_cmeans

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(hyperspy_cmeans.__path__, "hyperspy_cmeans.")
    if not info.name.endswith("__main__")
)


def _examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [test for test in finder.find(module, name) if test.examples]


WITH_EXAMPLES = [name for name in MODULES if _examples(name)]


def test_the_package_has_examples():
    assert {
        "hyperspy_cmeans.cmeans._probabilistic",
        "hyperspy_cmeans.signals._eds_sem_cmeans",
    } <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
