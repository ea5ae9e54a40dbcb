"""Reports of a finished (or running) job, from any backend's trial records.

``write_report`` writes ``report.md`` (a summary a person or a PR reads), ``report.html``
(the same with the plots inline) and PNGs: optimization history, parameter importance
(Optuna's fANOVA, computed on the trial records, so it works for cloud jobs too) and
parallel coordinates.

Example:
    >>> from pipetune.report import render_markdown   # doctest: +SKIP
    >>> print(render_markdown(spec, best, trials))      # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipetune.results import BestResult, TrialRecord, own_trials
from pipetune.spec import TuningSpec

if TYPE_CHECKING:
    from pipetune.job import JobStatus


@dataclass
class ReportFiles:
    """The files a report wrote: its Markdown, its HTML, and each chart by title (e.g.
    ``"Optimization history"``)."""

    markdown: Path
    html: Path
    images: dict[str, Path]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def best_so_far(spec: TuningSpec, trials: list[TrialRecord]) -> list[tuple[int, float, float]]:
    """``(trial number, value, best so far)`` for the job's own complete trials in trial
    order (a warm start's parent trials are not the job's)."""
    metric = spec.primary.metric
    maximize = spec.primary.goal == "maximize"
    rows, best = [], None
    for t in sorted(own_trials(trials), key=lambda t: t.number):
        if t.state != "complete" or metric not in t.metrics:
            continue
        v = t.metrics[metric]
        best = v if best is None else (max(best, v) if maximize else min(best, v))
        rows.append((t.number, v, best))
    return rows


def param_importances(spec: TuningSpec, trials: list[TrialRecord]) -> dict[str, float]:
    """fANOVA importances of the primary objective over the job's own trials, or {} with too
    few."""
    import optuna

    from pipetune.backends.local import space

    done = [t for t in own_trials(trials)
            if t.state == "complete" and spec.primary.metric in t.metrics]
    if len(done) < 4 or spec.multi_objective:
        return {}
    study = optuna.create_study(direction=spec.primary.goal)
    dists = {p.name: space.distribution(p) for p in spec.parameters}
    for t in done:
        params = {k: space.to_internal_value(spec.parameter(k), v) for k, v in t.params.items()
                  if k in dists}
        try:
            study.add_trial(optuna.trial.create_trial(
                params=params, distributions={k: dists[k] for k in params},
                value=t.metrics[spec.primary.metric]))
        except ValueError:
            continue
    try:
        return dict(optuna.importance.get_param_importances(study, normalize=True))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def _choice_line(what: str, name: str | None, reason: str | None) -> list[str]:
    if not name:
        return []
    return [f"{what}: **{name}**" + (f" ({reason})" if reason else ""), ""]


def render_markdown(spec: TuningSpec, best: BestResult | None, trials: list[TrialRecord],
                    *, title: str | None = None, images: dict[str, str] | None = None,
                    status: JobStatus | None = None) -> str:
    """A markdown summary: the winner, trial counts, the top trials and why others failed.

    Parent trials of a warm start are named in one line, not counted as this job's. With
    the job's ``status``, a line under the trial counts says which sampler searched and
    why, and one which early stopping ran and why (none for ``none``)."""
    parents = [t for t in trials if t.warm_start_from is not None]
    trials = own_trials(trials)
    name = best.job if best else (title or "job")
    lines = [f"# Tuning report: {title or name}", ""]
    if best is None:
        lines += ["No trial has completed yet.", ""]
    else:
        arrow = "↑" if best.goal == "maximize" else "↓"
        lines += [f"**Best {best.objective}** ({best.goal} {arrow}): **{_fmt(best.value)}** "
                  f"from trial `{best.trial}`", ""]
        lines += ["| parameter | value |", "|---|---|"]
        lines += [f"| `{k}` | {_fmt(v)} |" for k, v in best.params.items()]
        lines += [f"| `{k}` (static) | {_fmt(v)} |" for k, v in best.static.items()]
        lines.append("")
        if len(best.metrics) > 1:
            lines += ["Metrics of the best trial: " +
                      ", ".join(f"`{k}` = {_fmt(v)}" for k, v in best.metrics.items()), ""]
        if best.artifacts:
            lines += [f"Artifacts: `{best.artifacts}`", ""]
        from pipetune.observability.summary import report_lines  # cost and convergence

        for line in report_lines(spec, trials, backend=best.backend, cost_usd=best.cost_usd):
            lines += [line, ""]
    from pipetune.observability.goldilocks import check_ranges  # best at an edge, flat objective

    ranges = check_ranges(spec, trials)
    if ranges:
        lines += ["## Search ranges", ""]
        lines += [f"- Warning: {w.message}" for w in ranges]
        lines.append("")
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    lines += ["## Trials", "", f"{len(trials)} trials: " +
              ", ".join(f"{n} {s}" for s, n in sorted(counts.items())), ""]
    if status is not None:
        lines += _choice_line("Sampler", status.sampler, status.sampler_reason)
        if status.pruner != "none":
            lines += _choice_line("Early stopping", status.pruner, status.pruner_reason)
    if parents:
        jobs = sorted({str(t.warm_start_from).split("#")[0] for t in parents})
        lines += [f"Warm start: {len(parents)} parent trials from {', '.join(jobs)} seeded the "
                  "search (not counted above).", ""]
    metric = spec.primary.metric
    done = [t for t in trials if t.state == "complete" and metric in t.metrics]
    done.sort(key=lambda t: t.metrics[metric], reverse=spec.primary.goal == "maximize")
    if done:
        names = [p.name for p in spec.parameters]
        lines += ["| # | " + metric + " | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for t in done[:10]:
            lines.append(f"| {t.number} | {_fmt(t.metrics[metric])} | " +
                         " | ".join(_fmt(t.params.get(n, "—")) for n in names) + " |")
        lines.append("")
    failures = [t for t in trials if t.state in ("failed", "infeasible") and t.reason]
    if failures:
        lines += ["## Failed trials", ""]
        lines += [f"- trial {t.number} ({t.state}): {t.reason}" for t in failures[:10]]
        lines.append("")
    if best and best.pareto_front:
        lines += ["## Pareto front", "", "| # | " + " | ".join(o.metric for o in spec.objectives) + " |",
                  "|---|" + "---|" * len(spec.objectives)]
        for t in best.pareto_front:
            lines.append(f"| {t.number} | " + " | ".join(_fmt(t.metrics.get(o.metric, '—'))
                                                         for o in spec.objectives) + " |")
        lines.append("")
    importances = param_importances(spec, trials)
    if importances:
        lines += ["## Parameter importance", ""]
        lines += [f"- `{k}`: {v:.0%}" for k, v in importances.items()]
        lines.append("")
    for label, path in (images or {}).items():
        lines += [f"![{label}]({path})", ""]
    return "\n".join(lines)


def _plot_history(spec: TuningSpec, trials: list[TrialRecord], path: Path) -> bool:
    import matplotlib.pyplot as plt

    rows = best_so_far(spec, trials)
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter([r[0] for r in rows], [r[1] for r in rows], s=18, alpha=0.6, label="trial")
    ax.step([r[0] for r in rows], [r[2] for r in rows], where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(spec.primary.metric)
    ax.set_title("Optimization history")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _plot_importance(importances: dict[str, float], path: Path) -> bool:
    import matplotlib.pyplot as plt

    if not importances:
        return False
    items = sorted(importances.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(items) + 1.5))
    ax.barh([k for k, _ in items], [v for _, v in items], color="C0")
    ax.set_xlabel("importance (fANOVA)")
    ax.set_title("Parameter importance")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _plot_parallel(spec: TuningSpec, trials: list[TrialRecord], path: Path) -> bool:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    metric = spec.primary.metric
    done = [t for t in own_trials(trials) if t.state == "complete" and metric in t.metrics]
    if len(done) < 2:
        return False
    axes_names = [p.name for p in spec.parameters] + [metric]

    def position(p, value) -> float:
        if value is None:
            return math.nan
        values = getattr(p, "values", None)
        if values is not None:
            return values.index(value) / max(1, len(values) - 1) if value in values else math.nan
        lo, hi = float(p.min), float(p.max)
        if p.effective_scaling() == "log":
            return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (float(value) - lo) / (hi - lo)

    scores = [t.metrics[metric] for t in done]
    lo_s, hi_s = min(scores), max(scores)
    norm = colors.Normalize(lo_s, hi_s if hi_s > lo_s else lo_s + 1)
    cmap = matplotlib.colormaps["viridis" if spec.primary.goal == "maximize" else "viridis_r"]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(axes_names)), 4))
    for t in sorted(done, key=lambda t: t.metrics[metric], reverse=spec.primary.goal == "minimize"):
        ys = [position(p, t.params.get(p.name)) for p in spec.parameters]
        ys.append((t.metrics[metric] - lo_s) / (hi_s - lo_s) if hi_s > lo_s else 0.5)
        ax.plot(range(len(axes_names)), ys, color=cmap(norm(t.metrics[metric])), alpha=0.7)
    ax.set_xticks(range(len(axes_names)), axes_names, rotation=20)
    ax.set_yticks([])
    for x in range(len(axes_names)):
        ax.axvline(x, color="grey", lw=0.5)
    for x, p in enumerate(spec.parameters):  # each axis' range, so a line can be read back
        values = getattr(p, "values", None)
        top, bottom = (values[-1], values[0]) if values is not None else (p.max, p.min)
        ax.text(x, 1.03, _fmt(top), ha="center", va="bottom", fontsize=7)
        ax.text(x, -0.03, _fmt(bottom), ha="center", va="top", fontsize=7)
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=metric)
    ax.set_title("Parallel coordinates")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_report(spec: TuningSpec, best: BestResult | None, trials: list[TrialRecord],
                 out_dir: str | Path, *, title: str | None = None,
                 status: JobStatus | None = None) -> ReportFiles:
    """Write report.md, report.html and the PNG plots into ``out_dir`` (``status`` as in
    :func:`render_markdown`).

    The plots need the ``report`` extra (matplotlib); without it this raises
    :class:`~pipetune.errors.MissingExtra` before writing anything."""
    from pipetune.extras import require

    require("matplotlib", feature="the report's plots", extra="report").use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    if _plot_history(spec, trials, out / "history.png"):
        images["Optimization history"] = out / "history.png"
    if _plot_importance(param_importances(spec, trials), out / "importance.png"):
        images["Parameter importance"] = out / "importance.png"
    if _plot_parallel(spec, trials, out / "parallel_coordinates.png"):
        images["Parallel coordinates"] = out / "parallel_coordinates.png"
    md = render_markdown(spec, best, trials, title=title,
                         images={k: v.name for k, v in images.items()},
                         status=status)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(_to_html(md, images), encoding="utf-8")
    return ReportFiles(out / "report.md", out / "report.html", images)


def _to_html(markdown: str, images: dict[str, Path]) -> str:
    """A self-contained page: the markdown's tables and lists, plots inlined as data URIs."""
    body: list[str] = []
    in_table = False
    in_list = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("![") and "](" in line:
            label = line[2:line.index("]")]
            path = images.get(label)
            if path is not None:
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(f'<figure><img alt="{html.escape(label)}" '
                            f'src="data:image/png;base64,{data}"><figcaption>'
                            f"{html.escape(label)}</figcaption></figure>")
            continue
        if line.startswith("## "):
            body.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    if in_list:
        body.append("</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:4px 8px;text-align:left}img{max-width:100%}code{background:#f4f4f4}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>pipetune report</title>"
            f"<style>{style}</style></head><body>" + "\n".join(body) + "</body></html>")


def _inline(text: str) -> str:
    import re

    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
