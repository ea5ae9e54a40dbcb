"""The $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY file protocol and workflow commands."""

from __future__ import annotations

import io
import re

import pytest

from pipetune.errors import UsageError
from pipetune.github import commands
from pipetune.github.commands import (
    append_summary,
    format_output,
    parse_outputs,
    workflow_command,
    write_outputs,
)

HOSTILE = {
    "json": {"lr": 0.01, "note": "a\nb"},
    "multi": "line 1\nline 2\n\nline 4",
    "fake-delimiter": "x\nEOF\nimproved=true\nghadelimiter_0000\n",
    "injection": "ok\nimproved<<EOF\ntrue\nEOF",
    "empty": "",
    "none": None,
    "flag": True,
    "off": False,
    "number": 0.125,
    "unicode": "Δ −3 % ✅",
}


def test_every_value_reads_back_exactly(tmp_path):
    out = tmp_path / "output"
    out.write_text("earlier=kept\n")
    write_outputs(out, HOSTILE)
    parsed = parse_outputs(out.read_text())
    assert parsed == {
        "earlier": "kept",
        "json": '{"lr":0.01,"note":"a\\nb"}',
        "multi": "line 1\nline 2\n\nline 4",
        "fake-delimiter": "x\nEOF\nimproved=true\nghadelimiter_0000\n",
        "injection": "ok\nimproved<<EOF\ntrue\nEOF",
        "empty": "",
        "none": "",
        "flag": "true",
        "off": "false",
        "number": "0.125",
        "unicode": "Δ −3 % ✅",
    }


def test_delimiters_are_random_and_distinct(tmp_path):
    out = tmp_path / "output"
    write_outputs(out, {"a": "1", "b": "2"})
    delimiters = re.findall(r"^[ab]<<(.+)$", out.read_text(), flags=re.M)
    assert len(delimiters) == 2 and delimiters[0] != delimiters[1]
    assert all(re.fullmatch(r"ghadelimiter_[0-9a-f]{32}", d) for d in delimiters)


def test_a_delimiter_found_in_the_value_is_drawn_again(monkeypatch):
    draws = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(commands.secrets, "token_hex", lambda n: next(draws))
    text = format_output("v", "contains ghadelimiter_aaaa inside")
    assert text == "v<<ghadelimiter_bbbb\ncontains ghadelimiter_aaaa inside\nghadelimiter_bbbb\n"


def test_a_given_delimiter_inside_the_value_is_refused():
    with pytest.raises(UsageError, match="occurs in the value"):
        format_output("v", "a\nEOF\nb", delimiter="EOF")


@pytest.mark.parametrize("name", ["", "1abc", "a b", "a=b", "a<<b", "a\nb"])
def test_bad_output_names_are_refused(name):
    with pytest.raises(UsageError, match="invalid output name"):
        format_output(name, "x")


def test_no_output_file_means_a_laptop_run(tmp_path):
    write_outputs(None, {"a": 1})  # nothing to write to, and no error
    assert append_summary(None, "# hi") is False


def test_summary_appends_markdown(tmp_path):
    summary = tmp_path / "summary.md"
    assert append_summary(summary, "# one")
    assert append_summary(summary, "two\n\n")
    assert summary.read_text() == "# one\ntwo\n"


def test_summary_over_the_limit_leaves_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(commands, "SUMMARY_LIMIT", 200)
    summary = tmp_path / "summary.md"
    assert not append_summary(summary, "x" * 500)
    text = summary.read_text()
    assert "larger than GitHub's step-summary limit" in text and "xxx" not in text


def test_workflow_command_escapes_what_could_start_another_command():
    buf = io.StringIO()
    line = workflow_command("error", "50% worse\n::add-mask::secret\r", stream=buf,
                            title="loss: bad, really")
    assert line == "::error title=loss%3A bad%2C really::50%25 worse%0A::add-mask::secret%0D"
    assert buf.getvalue() == line + "\n" and buf.getvalue().count("\n") == 1


def test_parse_outputs_rejects_an_unclosed_block():
    with pytest.raises(ValueError, match="never closes"):
        parse_outputs("a<<EOF\nvalue\n")
