"""Cross-study insights: where the top trials of several jobs fall, and a narrower search
space for the next job.

Tune the same model on five data sets and the best configurations usually gather in a
small part of each range; a too-wide search space is the most common reason a tuning job
wastes its budget. For every parameter, :func:`cross_study_insights` takes each job's top
trials (``top_fraction`` of its complete trials, at least ``min_top``), records the range
they span per job, and suggests the smallest range holding the top trials of *every* job,
widened by ``margin`` of that range on the parameter's scale (log for log-scaled ones) and
kept inside the original bounds. Categorical parameters keep the values some top trial
used. :meth:`Insights.table` and :meth:`Insights.plot` show it; :meth:`Insights.suggested_parameters`
is the ``parameters:`` list for the next spec.

Example:
    >>> from pipetune.results import TrialRecord
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({"parameters": [{"name": "x", "type": "continuous", "min": 0, "max": 10}],
    ...                   "objectives": [{"metric": "loss", "goal": "minimize"}],
    ...                   "metrics": [{"name": "loss", "regex": "loss=(.+)"}],
    ...                   "trial": {"command": ["python", "t.py"]}})
    >>> def job(xs):
    ...     return [TrialRecord(id=str(i), number=i, state="complete", params={"x": x},
    ...                         metrics={"loss": abs(x - 4)}) for i, x in enumerate(xs)]
    >>> found = cross_study_insights([("a", spec, job([1, 3.5, 4.5, 9])),
    ...                               ("b", spec, job([0, 4, 5, 8]))], min_top=2, margin=0.0)
    >>> found.parameters[0].suggested
    (3.5, 5.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipetune.errors import UsageError
from pipetune.results import TrialRecord
from pipetune.spec import CategoricalParam, DiscreteParam, IntegerParam, TuningSpec

if TYPE_CHECKING:
    from pipetune.backends.base import Backend
    from pipetune.job import JobRef


@dataclass
class ParameterInsight:
    """One parameter across the jobs: its original range, the top trials' range per job,
    the suggested range (numbers: ``(min, max)``; categorical/discrete: a list of values)."""

    name: str
    type: str
    scaling: str
    original: Any
    per_job: dict[str, Any]
    suggested: Any
    shrink: float  # suggested width / original width on the parameter's scale (1 = no gain)


@dataclass
class Insights:
    """What ``pipetune insights`` found across finished jobs: per parameter, each job's range
    of top trials and the suggested range; ``top_counts`` is how many top trials each job
    had, ``base`` the first job's spec, ``skipped`` the parameters not compared."""

    jobs: list[str]
    objective: str
    goal: str
    top_counts: dict[str, int]
    parameters: list[ParameterInsight]
    base: TuningSpec
    skipped: list[str] = field(default_factory=list)

    def suggested_parameters(self) -> list[dict[str, Any]]:
        """The first job's ``parameters:`` with the suggested ranges, ready for a spec."""
        by_name = {p.name: p for p in self.parameters}
        out = []
        for p in self.base.parameters:
            body = p.model_dump(mode="json", exclude_none=True)
            found = by_name.get(p.name)
            if found is not None:
                if isinstance(found.suggested, tuple):
                    body["min"], body["max"] = found.suggested
                    if body.get("scaling") == "auto":
                        body["scaling"] = found.scaling  # keep the scale the range was read on
                else:
                    body["values"] = list(found.suggested)
            out.append(body)
        return out

    def table(self) -> str:
        """A markdown table: original range, each job's top range, the suggestion."""
        head = ["parameter", "original"] + [f"top of {j}" for j in self.jobs] + ["suggested",
                                                                               "width kept"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for p in self.parameters:
            cells = [f"`{p.name}`", _fmt(p.original)] + [_fmt(p.per_job.get(j)) for j in self.jobs]
            cells += [f"**{_fmt(p.suggested)}**", f"{p.shrink:.0%}"]
            lines.append("| " + " | ".join(cells) + " |")
        note = (f"Top trials: {', '.join(f'{j} {n}' for j, n in self.top_counts.items())} "
                f"({self.goal} `{self.objective}`).")
        if self.skipped:
            note += f" Not compared (not in every job, or of another type): {', '.join(self.skipped)}."
        return "\n".join(lines) + "\n\n" + note

    def plot(self, path: str | Path) -> Path:
        """One row per parameter: the original range (grey), each job's top range and
        trials (colours), the suggested range (green band). Saved as PNG."""
        from pipetune.extras import require

        require("matplotlib", feature="the insights plot", extra="report").use("Agg")
        import matplotlib.pyplot as plt

        path = Path(path)
        rows = self.parameters
        fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.3 * len(rows) + 0.8), squeeze=False)
        for ax, p in zip(axes[:, 0], rows):
            pos, labels = _positions(p)
            ax.axhspan(-0.5, len(self.jobs) - 0.5, xmin=0, xmax=1, color="0.93")
            for band, (lo, hi) in enumerate(suggestion_bands(p)):
                ax.axvspan(lo, hi, color="tab:green", alpha=0.25,
                           label="suggested" if band == 0 else None)
            for k, job in enumerate(self.jobs):
                span = p.per_job.get(job)
                if span is None:
                    continue
                a, b = pos(span, "lo"), pos(span, "hi")
                ax.plot([a, b], [k, k], lw=6, alpha=0.8, color=f"C{k % 10}", solid_capstyle="round")
                if not isinstance(span, tuple):  # categorical: mark each value used
                    ax.scatter([pos([v], "lo") for v in span], [k] * len(span), s=40,
                               color=f"C{k % 10}", zorder=3)
            ax.set_xlim(-0.03, 1.03)
            ax.set_ylim(-0.7, len(self.jobs) - 0.3)
            ax.set_yticks(range(len(self.jobs)), self.jobs, fontsize=8)
            ax.set_xticks(*labels)
            kind = p.scaling if isinstance(p.original, tuple) else p.type
            ax.set_title(f"{p.name} ({kind})", fontsize=9, loc="left")
        axes[0, 0].legend(loc="upper right", fontsize=8)
        fig.suptitle(f"Where the top trials fall ({self.goal} {self.objective})", fontsize=10)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def to_dict(self) -> dict[str, Any]:
        """The insights as a JSON-able dict (ranges as lists), with the suggested
        ``parameters:``."""
        return {"jobs": self.jobs, "objective": self.objective, "goal": self.goal,
                "top_counts": self.top_counts, "skipped": self.skipped,
                "parameters": [{"name": p.name, "type": p.type, "scaling": p.scaling,
                                "original": _plain(p.original),
                                "per_job": {j: _plain(v) for j, v in p.per_job.items()},
                                "suggested": _plain(p.suggested), "width_kept": p.shrink}
                               for p in self.parameters],
                "suggested_parameters": self.suggested_parameters()}


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, tuple):
        return f"{v[0]:.4g} – {v[1]:.4g}"
    return "{" + ", ".join(str(x) for x in v) + "}"


def suggestion_bands(p: ParameterInsight) -> list[tuple[float, float]]:
    """Where :meth:`Insights.plot` shades the suggestion, on the 0..1 axis of ``p``: one band
    for a range, one band per suggested value for categorical and discrete parameters (a
    value between two suggested ones is not suggested, so it is never shaded).

    >>> p = ParameterInsight("act", "categorical", "linear", ["relu", "tanh", "gelu"], {},
    ...                      ["relu", "gelu"], 2 / 3)
    >>> suggestion_bands(p)
    [(-0.1, 0.1), (0.9, 1.1)]
    """
    pos, _ = _positions(p)
    if isinstance(p.suggested, tuple):
        return [(pos(p.suggested, "lo") - 0.01, pos(p.suggested, "hi") + 0.01)]
    half = 0.2 / max(1, len(p.original) - 1)
    return [(round(pos([v], "lo") - half, 6), round(pos([v], "lo") + half, 6))
            for v in p.suggested]


def _positions(p: ParameterInsight):
    """Map values of ``p`` to 0..1 on its scale, and the axis ticks."""
    if isinstance(p.original, tuple):
        lo, hi = p.original
        to = _scale(p.scaling)

        def pos(v, end):
            x = v[0] if end == "lo" else v[1]
            return (to(x) - to(lo)) / ((to(hi) - to(lo)) or 1.0)

        return pos, ([0, 1], [f"{lo:.3g}", f"{hi:.3g}"])
    values = list(p.original)
    n = max(1, len(values) - 1)

    def pos(v, end):
        idx = [values.index(x) for x in v if x in values] or [0]
        return (min(idx) if end == "lo" else max(idx)) / n

    return pos, ([i / n for i in range(len(values))], [str(v) for v in values])


def _scale(scaling: str):
    return math.log if scaling == "log" else (lambda x: x)


def _inverse(scaling: str):
    return math.exp if scaling == "log" else (lambda x: x)


def top_trials(spec: TuningSpec, trials: list[TrialRecord], top_fraction: float,
               min_top: int) -> list[TrialRecord]:
    """The best ``top_fraction`` of the complete trials (at least ``min_top``)."""
    metric = spec.primary.metric
    done = [t for t in trials if t.state == "complete" and metric in t.metrics
            and math.isfinite(t.metrics[metric])]
    done.sort(key=lambda t: t.metrics[metric], reverse=spec.primary.goal == "maximize")
    k = min(len(done), max(min_top, math.ceil(top_fraction * len(done))))
    return done[:k]


def cross_study_insights(studies: list[tuple[str, TuningSpec, list[TrialRecord]]], *,
                         top_fraction: float = 0.2, min_top: int = 3,
                         margin: float = 0.1) -> Insights:
    """Insights over ``(job name, spec, trials)`` of several finished jobs (see the module)."""
    if not studies:
        raise UsageError("give at least one job")
    if not 0 < top_fraction <= 1:
        raise UsageError(f"top fraction must be in (0, 1], got {top_fraction}")
    if min_top < 1 or margin < 0:
        raise UsageError("min_top must be 1 or more and margin 0 or more")
    name0, base, _ = studies[0]
    for name, spec, _ in studies[1:]:
        if (spec.primary.metric, spec.primary.goal) != (base.primary.metric, base.primary.goal):
            raise UsageError(f"job {name!r} {spec.primary.goal}s {spec.primary.metric!r} but "
                             f"{name0!r} {base.primary.goal}s {base.primary.metric!r}: compare "
                             "jobs of one objective")
    tops: dict[str, list[TrialRecord]] = {}
    for name, spec, trials in studies:
        tops[name] = top_trials(spec, trials, top_fraction, min_top)
        if not tops[name]:
            raise UsageError(f"job {name!r} has no complete trial with {spec.primary.metric!r}")
    found, skipped = [], []
    for p in base.parameters:
        others = [_param(spec, p.name) for _, spec, _ in studies]
        if any(o is None or o.type != p.type for o in others):
            skipped.append(p.name)
            continue
        per_job: dict[str, Any] = {}
        for name, _, _ in studies:
            values = [t.params[p.name] for t in tops[name] if t.params.get(p.name) is not None]
            if values:
                per_job[name] = _span(p, values)
        found.append(_suggest(p, per_job, margin))
    return Insights([s[0] for s in studies], base.primary.metric, base.primary.goal,
                    {n: len(t) for n, t in tops.items()}, found, base, skipped)


def _param(spec: TuningSpec, name: str):
    try:
        return spec.parameter(name)
    except KeyError:
        return None


def _span(p, values: list[Any]) -> Any:
    if isinstance(p, (CategoricalParam, DiscreteParam)):
        return [v for v in p.values if v in values]
    return (min(values), max(values))


def _suggest(p, per_job: dict[str, Any], margin: float) -> ParameterInsight:
    if isinstance(p, (CategoricalParam, DiscreteParam)):
        original = list(p.values)
        used = {v for span in per_job.values() for v in span}
        if isinstance(p, DiscreteParam) and used:  # numbers: keep the run between the extremes
            lo, hi = min(used), max(used)
            suggested = [v for v in original if lo <= v <= hi]
        else:
            suggested = [v for v in original if v in used] or original
        return ParameterInsight(p.name, p.type, "linear", original, per_job, suggested,
                                len(suggested) / len(original))
    scaling = p.effective_scaling()
    if scaling == "reverse_log":
        scaling = "linear"
    to, back = _scale(scaling), _inverse(scaling)
    lo0, hi0 = p.min, p.max
    if not per_job:
        return ParameterInsight(p.name, p.type, scaling, (lo0, hi0), per_job, (lo0, hi0), 1.0)
    lo = min(span[0] for span in per_job.values())
    hi = max(span[1] for span in per_job.values())
    width = to(hi) - to(lo) or (to(hi0) - to(lo0)) * 0.1
    a = max(to(lo0), to(lo) - margin * width)
    b = min(to(hi0), to(hi) + margin * width)
    lo_s, hi_s = max(lo0, back(a)), min(hi0, back(b))
    if isinstance(p, IntegerParam):
        lo_s, hi_s = int(math.floor(lo_s)), int(math.ceil(hi_s))
        if lo_s == hi_s:
            lo_s, hi_s = max(p.min, lo_s - 1), min(p.max, hi_s + 1)
    else:
        lo_s, hi_s = float(f"{lo_s:.4g}"), float(f"{hi_s:.4g}")  # readable, still inside
        lo_s, hi_s = max(lo0, min(lo_s, lo)), min(hi0, max(hi_s, hi))
    kept = (to(hi_s) - to(lo_s)) / ((to(hi0) - to(lo0)) or 1.0)
    return ParameterInsight(p.name, p.type, scaling, (lo0, hi0), per_job, (lo_s, hi_s), kept)


def insights_for_jobs(refs: "list[JobRef]", backends: "dict[str, Backend] | None" = None,
                      **options: Any) -> Insights:
    """:func:`cross_study_insights` over jobs read from their backends."""
    from pipetune.backends import get_backend
    from pipetune.observability.snapshot import spec_of

    backends = dict(backends or {})
    studies = []
    for ref in refs:
        be = backends.setdefault(ref.backend, backends.get(ref.backend) or get_backend(ref.backend))
        studies.append((ref.name, spec_of(be, ref), be.trials(ref)))
    return cross_study_insights(studies, **options)
