"""The markdown report of a tuning run: the pull-request comment and the job summary.

It shows the verdict, the new best objective beside the baseline's with the delta, the
best parameters beside the baseline's, trials run / failed / pruned, the cost when the
backend reports one, the optimization history as a Mermaid chart, and a link to the run.
Every value that comes from a spec or a trial is escaped: it lands in code spans, with
``|`` escaped so it cannot break the table, and cannot mention anyone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pipetune.github.chart import history, history_chart
from pipetune.github.compare import Comparison
from pipetune.results import BestResult, TrialRecord

HEADLINES = {
    "improved": ("✅", "improved"),
    "unchanged": ("➖", "unchanged"),
    "regressed": ("🔻", "regressed"),
    "no-baseline": ("🆕", "first result"),
}
MAX_PARAM_ROWS = 60
MAX_VALUE_CHARS = 120  # with 60 rows and a 50-point chart, a report stays far below
COMMENT_LIMIT = 65_536  # the most GitHub takes in a comment body


@dataclass
class ReportInputs:
    """Everything a report shows besides the result itself."""

    comparison: Comparison
    baseline: BestResult | None = None
    baseline_origin: str = ""
    baseline_note: str | None = None
    trials: list[TrialRecord] = field(default_factory=list)
    run_url: str | None = None
    spec_path: str | None = None
    job_name: str | None = None
    warm_started_from: str | None = None
    convergence: str | None = None  # the observability rule's line, when it was judged


def code(value: Any) -> str:
    """``value`` as an inline code span that no backtick, pipe or newline can break."""
    text = _plain(value).replace("\r", " ").replace("\n", " ")
    if not text:
        return "` `"
    run = longest = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def clip(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value's text, cut to ``limit`` characters with an ellipsis."""
    text = _plain(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value)
    return str(value)


def number(value: float | None, digits: int = 6) -> str:
    """``value`` in at most ``digits`` significant digits; integers, ``nan`` and ``inf``
    as they are, ``–`` for None."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return format(value, f".{digits}g")


def signed(value: float, digits: int = 4) -> str:
    """``value`` in ``digits`` significant digits with its sign, ``+`` included."""
    return ("+" if value > 0 else "") + format(value, f".{digits}g")


def headline(c: Comparison) -> str:
    """The report's Markdown heading: the verdict's icon and word for the objective."""
    icon, word = HEADLINES[c.verdict]
    if c.verdict == "no-baseline":
        return f"## {icon} pipetune: {word} for {code(c.objective)}"
    return f"## {icon} pipetune: {code(c.objective)} {word}"


def summary_line(c: Comparison, inputs: ReportInputs) -> str:
    """One sentence: the best value against the baseline's, the change (absolute and
    relative) and the threshold; without a baseline, the best value and why there is no
    comparison."""
    if c.verdict == "no-baseline" or c.baseline_value is None or c.delta is None:
        reason = c.note if c.note and c.note != "no baseline results to compare with" else None
        reason = reason or inputs.baseline_note or "no baseline results to compare with"
        return f"Best {code(c.objective)} ({c.goal}): **{number(c.value)}**. No comparison: {reason}."
    rel = f" ({c.relative_delta * 100:+.2f}%)" if c.relative_delta is not None else ""
    return (f"Best {code(c.objective)} ({c.goal}): **{number(c.value)}** against "
            f"**{number(c.baseline_value)}** in the baseline {inputs.baseline_origin}".rstrip()
            + f": {signed(c.delta)}{rel}, threshold {c.threshold}.")


def params_table(result: BestResult, c: Comparison, baseline: BestResult | None) -> list[str]:
    """Markdown table rows of the objective and each parameter, this run against the baseline
    (``–`` where one has none); long lists are cut with a "more" row."""
    base_params = baseline.params if baseline else {}
    names = list(result.params) + [k for k in base_params if k not in result.params]
    rows = ["| | this run | baseline |", "|---|---:|---:|",
            f"| **{code(c.objective)}** | **{number(c.value)}** | "
            f"{number(c.baseline_value) if c.baseline_value is not None else '–'} |"]
    for name in names[:MAX_PARAM_ROWS]:
        new = code(clip(result.params[name])) if name in result.params else "–"
        old = code(clip(base_params[name])) if name in base_params else "–"
        rows.append(f"| {code(clip(name))} | {new} | {old} |")
    if len(names) > MAX_PARAM_ROWS:
        rows.append(f"| … {len(names) - MAX_PARAM_ROWS} more | | |")
    return rows


def trials_line(result: BestResult) -> str:
    """Markdown lines with the trial counts (run, complete, failed, pruned, and infeasible
    when any) and the cost, or that the backend reports none."""
    parts = [f"**Trials:** {result.trials_total} run",
             f"{result.trials_complete} complete",
             f"{result.trials_failed} failed",
             f"{result.trials_pruned} pruned"]
    if result.trials_infeasible:
        parts.append(f"{result.trials_infeasible} infeasible")
    cost = (f"≈ ${result.cost_usd:,.2f}" if result.cost_usd is not None
            else "not reported by the backend")
    return " · ".join(parts) + f"  \n**Cost:** {cost}"


def footer(result: BestResult, inputs: ReportInputs) -> str:
    """The report's last line, in small print: the job and backend, the spec, the best trial,
    the warm-start parent and the workflow run, where known."""
    bits = [f"job {code(inputs.job_name or result.job)} on {code(result.backend)}"]
    if inputs.spec_path:
        bits.append(f"spec {code(inputs.spec_path)}")
    bits.append(f"best trial {code(result.trial_number if result.trial_number is not None else result.trial)}")
    if inputs.warm_started_from:
        bits.append(f"warm-started from {code(inputs.warm_started_from)}")
    if inputs.run_url:
        bits.append(f"[workflow run]({inputs.run_url})")
    return "<sub>" + " · ".join(bits) + " · pipetune</sub>"


def render_report(result: BestResult, inputs: ReportInputs) -> str:
    """The full report (without the hidden comment marker)."""
    c = inputs.comparison
    out = [headline(c), "", summary_line(c, inputs), ""]
    out += params_table(result, c, inputs.baseline)
    if result.static:
        fixed = ", ".join(f"{code(clip(k))} = {code(clip(v))}"
                          for k, v in list(result.static.items())[:MAX_PARAM_ROWS])
        out += ["", f"Fixed: {fixed}"]
    others = {k: v for k, v in result.metrics.items() if k != result.objective}
    if others:
        out += ["", "Other metrics of the best trial: " +
                ", ".join(f"{code(clip(k))} {number(v)}"
                          for k, v in list(others.items())[:MAX_PARAM_ROWS])]
    out += ["", trials_line(result)]
    if inputs.convergence:
        out += ["", inputs.convergence]
    chart = history_chart(history(inputs.trials, result.objective), result.objective, result.goal)
    if chart:
        out += ["", "### Optimization history", "", chart]
    out += ["", footer(result, inputs)]
    return "\n".join(out) + "\n"


def render_failure(job: str, backend: str, reason: str, *, run_url: str | None = None,
                   spec_path: str | None = None) -> str:
    """The report when the tuning job did not complete."""
    bits = [f"job {code(job)} on {code(backend)}"]
    if spec_path:
        bits.append(f"spec {code(spec_path)}")
    if run_url:
        bits.append(f"[workflow run]({run_url})")
    return "\n".join([
        "## ❌ pipetune: tuning did not complete", "",
        f"Reason: {code(reason[:500])}", "",
        "<sub>" + " · ".join(bits) + " · pipetune</sub>",
    ]) + "\n"


def render_error(message: str, *, run_url: str | None = None) -> str:
    """The report when the step stopped on an error before any tuning (an invalid input,
    a spec error): the message as a code block no backtick in it can close."""
    text = _plain(message).replace("\r", "")[:5000]
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    footer = f"[workflow run]({run_url}) · pipetune" if run_url else "pipetune"
    return "\n".join(["## ❌ pipetune: the step stopped on an error", "",
                      fence, text, fence, "", f"<sub>{footer}</sub>"]) + "\n"
