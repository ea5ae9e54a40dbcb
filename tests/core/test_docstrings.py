"""Every public definition in ``pipetune/`` has a docstring (issue 20, item 6).

Public means: a class or function defined at a module's top level (also under a top-level
``if`` or ``try``), or a method, property or nested class of a public class, whose name
does not start with ``_``, in any module under ``pipetune/`` (``__init__.py`` and
underscore-named modules included). Dunder methods (``__init__`` ...) are not public by
this rule: the class's docstring says how to build one.

Overrides are not exempt, whatever their decorators: a subclass's method (a backend's
``status``, a collector's ``collect``) needs its own docstring saying what this
implementation promises, as Optuna documents every public method. Functions nested inside
functions are private to them. Pydantic fields and other attributes are not definitions.

The census (how many public definitions, how many without a docstring)::

    .venv/bin/python -m tests.core.test_docstrings
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pipetune

PACKAGE = Path(pipetune.__file__).parent



def public_definitions(source: str) -> Iterator[tuple[str, ast.AST]]:
    """``(qualified name, node)`` of every public definition in ``source``, by the rule of
    this module's docstring."""

    def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in body:
            if isinstance(node, (ast.If, ast.Try)):
                yield from top_level(node.body)
                yield from top_level(node.orelse)
                for handler in getattr(node, "handlers", []):
                    yield from top_level(handler.body)
                yield from top_level(getattr(node, "finalbody", []))
            else:
                yield node

    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for node in top_level(body):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if node.name.startswith("_"):
                continue
            yield prefix + node.name, node
            if isinstance(node, ast.ClassDef):
                yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(ast.parse(source).body, "")


def undocumented(path: Path) -> list[str]:
    """``path:line: name`` of each public definition in the file without a docstring."""
    return [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {name}"
            for name, node in public_definitions(path.read_text())
            if ast.get_docstring(node) is None]


def census() -> tuple[int, int]:
    """How many public definitions ``pipetune/`` has, and how many lack a docstring."""
    total = missing = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        found = list(public_definitions(path.read_text()))
        total += len(found)
        missing += sum(ast.get_docstring(node) is None for _, node in found)
    return total, missing


def test_every_public_definition_has_a_docstring():
    missing = [line for path in sorted(PACKAGE.rglob("*.py")) for line in undocumented(path)]
    assert not missing, (f"{len(missing)} public definitions have no docstring (say what "
                         "each promises, Optuna style):\n" + "\n".join(missing))


def test_the_rule_finds_what_it_says_and_only_that():
    source = '''
def documented():
    """Yes."""
def bare(): pass
async def bare_async(): pass
def _private(): pass
class Public:
    """Yes."""
    def method(self): pass
    @property
    def prop(self): pass
    def _helper(self): pass
    def __init__(self): pass
    class Nested: pass
    def overridden(self):
        """Yes."""
        def inner(): pass
class _Private:
    def method(self): pass
if True:
    def conditional(): pass
try:
    import x
except ImportError:
    class Fallback: pass
'''
    found = {name: ast.get_docstring(node) is not None
             for name, node in public_definitions(source)}
    assert found == {
        "documented": True, "bare": False, "bare_async": False, "Public": True,
        "Public.method": False, "Public.prop": False, "Public.Nested": False,
        "Public.overridden": True, "conditional": False, "Fallback": False,
    }


if __name__ == "__main__":
    total, missing = census()
    print(f"{total} public definitions in pipetune/, {missing} without a docstring")
