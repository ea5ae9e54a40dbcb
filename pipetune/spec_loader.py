"""Reading a spec document within fixed budgets: the one parser every entry point uses.

A spec is small: a few dozen fields. A hostile document can still be made to cost
gigabytes or to crash the parser: an alias that refers to an alias that refers to an
alias ("billion laughs"), ten thousand levels of nesting, a 100 MB categorical. This
module refuses such a document *before* it is built, with an error naming the section
(``sagemaker``, ``profiles``, ...) where the budget ran out:

- the text is at most :data:`MAX_DOCUMENT_BYTES` long;
- nesting is at most :data:`MAX_DEPTH` levels deep;
- the document, with every alias expanded, holds at most :data:`MAX_NODES` values;
- a mapping never holds the same key twice (in YAML or in JSON: the last one would
  silently win).

The budgets are checked on the parser's event stream (libyaml's parser keeps its own
stack, so depth cannot exhaust Python's), counting each alias as the size of what it
refers to; only then is the document built. Python dicts handed to
:func:`check_structure` (the API's ``load_spec(dict)``) get the same depth and size
budgets, shared sub-objects counted each time they appear.

Example:
    >>> load_document("a: 1\\nb: [x, y]")
    {'a': 1, 'b': ['x', 'y']}
    >>> load_document("a: 1\\na: 2")
    Traceback (most recent call last):
    ...
    pipetune.errors.SpecError: invalid spec: a: duplicate key 'a' (line 2); keep one
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from pipetune.errors import SpecError

MAX_DOCUMENT_BYTES = 1_000_000
MAX_DEPTH = 40
MAX_NODES = 200_000

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a mapping that repeats a key."""


def _map(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping, after checking that its own keys are distinct. Keys brought in by a merge
    (``<<: *base``) may be overridden: that is what a merge is for."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # '<<: *base' overrides on purpose
        key = loader.construct_object(key_node)
        try:
            fresh = key not in seen
        except TypeError:  # an unhashable key: the constructor reports it
            continue
        if not fresh:
            raise SpecError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1}); "
                            "keep one", field=str(key))
        seen.add(key)
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node)  # merges, too


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _map)


def load_document(text: str, origin: str = "spec") -> Any:
    """Parse YAML or JSON ``text`` within the budgets; raise :class:`SpecError` otherwise.

    ``origin`` names the document in messages (a file path, or ``spec``).
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise SpecError(f"{origin} is {size:,} bytes; a spec may be at most "
                        f"{MAX_DOCUMENT_BYTES:,} bytes", field="spec")
    try:
        _check_events(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None and "nesting depth" in problem:  # libyaml's own limit (1000)
            raise SpecError(f"nesting deeper than {MAX_DEPTH} levels (line {mark.line + 1}); "
                            "a spec needs a handful",
                            field=_section_at(text, mark.index)) from None
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else origin
        if "invalid Unicode character escape" in problem:
            problem += (" (an escape such as \\ud800 is half of a surrogate pair: write the "
                        "character itself, in UTF-8)")
        raise SpecError(f"malformed YAML at {where}: {problem}", field=origin) from None
    except RecursionError:  # unreachable within MAX_DEPTH; kept as the last line of defence
        raise SpecError(f"nesting deeper than {MAX_DEPTH} levels", field="spec") from None


_TOP_KEY = re.compile(r'^["\']?([A-Za-z_][A-Za-z0-9_]*)["\']?\s*:', re.M)
_FLOW_KEY = re.compile(r'["\']?([A-Za-z_][A-Za-z0-9_]*)["\']?\s*:')


def _section_at(text: str, index: int) -> str:
    """Best effort: the top-level key whose value holds position ``index`` (for messages)."""
    head = text[:index]
    keys = _TOP_KEY.findall(head)
    if keys and not head.lstrip().startswith("{"):
        return keys[-1]
    depth, quote, last, i = 0, "", "spec", 0  # a one-line JSON/flow document
    while i < len(head):
        c = head[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            if depth == 1:
                m = _FLOW_KEY.match(head, i)
                if m:
                    last = m.group(1)
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return last


def _check_events(text: str) -> None:
    """Walk the parser's events once: depth, expanded size, and the top-level section."""
    anchors: dict[str, int] = {}
    # one frame per open collection: [values inside so far, its anchor, is a mapping,
    # the next item is a key]
    stack: list[list[Any]] = []
    section = "spec"
    total = 0

    def add(count: int) -> None:
        nonlocal total
        total += count
        for frame in stack:
            frame[0] += count
        if total > MAX_NODES:
            raise SpecError(f"the document expands to more than {MAX_NODES:,} values (aliases "
                            "included); a spec is far smaller: remove the repeated aliases",
                            field=section)

    def item(key_text: str | None) -> None:
        """One item of the innermost collection is complete (a key, or a value)."""
        nonlocal section
        if stack and stack[-1][2]:
            if stack[-1][3] and len(stack) == 1 and key_text is not None:
                section = key_text
            stack[-1][3] = not stack[-1][3]

    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            add(1)
            if len(stack) >= MAX_DEPTH:
                raise SpecError(f"nesting deeper than {MAX_DEPTH} levels; a spec needs a "
                                "handful", field=section)
            stack.append([0, event.anchor, isinstance(event, yaml.MappingStartEvent), True])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame[1] is not None:
                anchors[frame[1]] = frame[0] + 1
            item(None)
        elif isinstance(event, yaml.ScalarEvent):
            add(1)
            if event.anchor is not None:
                anchors[event.anchor] = 1
            item(event.value)
        elif isinstance(event, yaml.AliasEvent):
            if any(frame[1] == event.anchor for frame in stack):
                raise SpecError(f"the alias *{event.anchor} refers to a value that contains it "
                                "(a value with no end)", field=section)
            add(anchors.get(event.anchor, 1))
            item(None)


def check_structure(data: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """The same depth and size budgets for a spec given as Python objects.

    Iterative, so a 20,000-level dict gives a :class:`SpecError`, not a ``RecursionError``;
    an object reachable twice counts twice (as an alias does).
    """
    todo: list[tuple[Any, int, str]] = [(data, 0, "spec")]
    nodes = 0
    while todo:
        node, depth, where = todo.pop()
        nodes += 1
        if nodes > max_nodes:
            raise SpecError(f"the spec holds more than {max_nodes:,} values; a spec is far "
                            "smaller", field=where)
        if depth > max_depth:
            raise SpecError(f"nesting deeper than {max_depth} levels; a spec needs a handful",
                            field=where)
        if isinstance(node, dict):
            for key, value in node.items():
                todo.append((value, depth + 1, str(key) if depth == 0 else where))
        elif isinstance(node, (list, tuple)):
            todo.extend((value, depth + 1, where) for value in node)


__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "MAX_NODES", "check_structure", "load_document"]
