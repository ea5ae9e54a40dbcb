"""The fenced code blocks of the documentation, and the markers that say how each is tested.

A marker is an HTML comment on the line right before a block's opening fence (GitHub does
not render it; the block renders as usual):

``<!-- excerpt: WHY -->``
    Not run: it needs a cloud account, Docker, a database, a package install, or it is an
    illustration (a layout, sample output, a protocol). WHY is required.
``<!-- excerpt-of: PATH -->``
    An abridged copy of the repository file PATH (YAML): every key the block shows must have
    the file's value there.
``<!-- file: PATH -->``
    Written to PATH in the document's workspace, for the blocks after it (which must use it).
``<!-- check: NAME -->``
    After the block runs, the assertion NAME of ``tests/docs/test_docs.py`` checks what the
    prose around it claims.
``<!-- env: NAME -->``
    Runs against a test fake: ``aws`` (moto's server, through ``AWS_ENDPOINT_URL``), ``gcp``
    (the fake Vertex AI of ``tests/vertex``, through ``PIPETUNE_VERTEX_ENDPOINT`` and
    Application Default Credentials).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER_RE = re.compile(r"^<!--\s*(excerpt|excerpt-of|file|check|env)\s*:\s*(.*?)\s*-->$")
FENCE_RE = re.compile(r"^(```+|~~~+)\s*([^`\s]*)")


@dataclass
class Block:
    """One fenced block: where it is, its language (the info string's first word), its text
    and its markers."""

    doc: str
    line: int
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def documents() -> list[Path]:
    """README.md and every page of docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of one markdown file, in order, with the markers before each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        markers: dict[str, str] = {}
        k = i - 1
        while k >= 0 and (mk := MARKER_RE.match(lines[k].strip())):
            markers[mk.group(1)] = mk.group(2)
            k -= 1
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        out.append(Block(str(path.relative_to(ROOT)), i + 1, lang,
                         "\n".join(lines[i + 1:end]) + "\n", markers))
        i = end + 1
    return out


def shell_commands(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines
    dropped, ``&&`` / ``;`` / ``|`` split."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            commands += [c.strip() for c in re.split(r"&&|\|\||;|\|", line) if c.strip()]
    return commands


def program_of(command: str) -> str:
    """The program a command runs, after ``NAME=value`` assignments."""
    words = command.split()
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    return words[0] if words else ""
