"""Docstring examples are tests: every ``>>>`` example in ``pipetune/`` runs here as written
(an example marked ``# doctest: +SKIP`` is one that needs a cloud account)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pipetune


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(pipetune.__path__, "pipetune.")
                  if not m.name.endswith("__main__"))  # running it is the CLI


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    return [t for t in tests if t.filename == module.__file__
            and any(not e.options.get(doctest.SKIP) for e in t.examples)]


WITH_EXAMPLES = [name for name in _modules() if _examples(name)]


def test_the_modules_with_examples_are_found():
    assert {"pipetune.storages.indexed", "pipetune.storages.journal",
            "pipetune.backends.local.backend", "pipetune.secrets"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run_as_written(name, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPETUNE_HOME", str(tmp_path / ".pipetune"))
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in _examples(name):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, "".join(report)
    assert attempted > 0
