"""Search-space traps users fall into, found before any trial runs.

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({
    ...     "parameters": [{"name": "lr", "type": "continuous", "min": 1e-5, "max": 1e-1,
    ...                     "scaling": "linear"}],
    ...     "objectives": [{"metric": "acc"}], "metrics": [{"name": "acc", "regex": "acc=(.*)"}],
    ...     "trial": {"command": ["python", "train.py"]}})
    >>> [w.field for w in lint(spec)]
    ['parameters[0].scaling']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipetune.spec import CategoricalParam, ContinuousParam, DiscreteParam, IntegerParam, TuningSpec


@dataclass(frozen=True)
class LintWarning:
    """One advice of ``pipetune lint``: the spec field it concerns and what to change; its
    text is ``field: message``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


_SIZE_WORDS = ("batch", "unit", "hidden", "width", "filter", "channel", "neuron", "embed",
               "dim", "size", "head", "token")


def _looks_like_powers(p: "IntegerParam", pows: list[int]) -> bool:
    """Bounds on powers of two say "powers of two" only for sizes: counts such as a tree's
    depth 1..8 or layers 2..16 run over every integer on purpose. The warning is worth giving
    when the name is a size's, or the bounds are large ones, and the range holds at least
    four times as many integers as powers."""
    sized = p.min >= 8 or any(w in p.name.lower() for w in _SIZE_WORDS)
    return sized and (p.max - p.min + 1) >= 4 * len(pows)


def lint(spec: TuningSpec) -> list[LintWarning]:
    """Warnings, each saying what to change. An empty list means nothing suspicious, and
    every field reaches the spec's backend (:mod:`pipetune.translation`)."""
    from pipetune.translation import untranslated

    out: list[LintWarning] = [LintWarning(f, m) for f, m in untranslated(spec)]
    for i, p in enumerate(spec.parameters):
        where = f"parameters[{i}]"
        if isinstance(p, (ContinuousParam, IntegerParam)):
            lo, hi = p.min, p.max
            scaling = p.effective_scaling()
            if scaling == "linear" and lo > 0 and hi / lo >= 100:
                out.append(LintWarning(
                    f"{where}.scaling",
                    f"{p.name!r} spans {math.log10(hi / lo):.0f} orders of magnitude on a linear "
                    "scale: most trials land near the top of the range; use scaling: log"))
            if scaling == "linear" and lo == 0 and hi >= 1 and isinstance(p, ContinuousParam) and \
                    any(k in p.name.lower() for k in ("lr", "learning_rate", "alpha", "lambda", "decay")):
                out.append(LintWarning(
                    f"{where}.min",
                    f"{p.name!r} starts at 0 on a linear scale; rates and penalties usually want "
                    "a small positive min with scaling: log"))
            pows = ([2 ** k for k in range(int(math.log2(lo)), int(math.log2(hi)) + 1)]
                    if isinstance(p, IntegerParam) and _is_power_of_two(lo)
                    and _is_power_of_two(hi) and hi // lo >= 8 and p.step == 1 else [])
            if pows and _looks_like_powers(p, pows):
                out.append(LintWarning(
                    f"{where}.type",
                    f"{p.name!r} looks like a power of two ({lo}..{hi}) but every integer in "
                    f"between is searched; use type: discrete with values: {pows}, or tune its "
                    "log2 exponent"))
            if isinstance(p, ContinuousParam) and lo != 0 and (hi - lo) / max(abs(lo), abs(hi)) < 0.01:
                out.append(LintWarning(
                    f"{where}.max",
                    f"{p.name!r} range {lo:g}..{hi:g} is suspiciously narrow (<1% of its value); "
                    "make it a static hyperparameter or widen it"))
            if isinstance(p, IntegerParam) and hi - lo < 1 * p.step:
                out.append(LintWarning(f"{where}.max", f"{p.name!r} has a single value; make it static"))
        elif isinstance(p, (CategoricalParam, DiscreteParam)) and len(p.values) == 1:
            out.append(LintWarning(
                f"{where}.values",
                f"{p.name!r} has a single value {p.values[0]!r}; move it to static:"))
    b = spec.budget
    if b.max_parallel > 1 and b.max_parallel * 10 > b.max_trials and spec.strategy not in ("random", "grid"):
        out.append(LintWarning(
            "budget.max_parallel",
            f"{b.max_parallel} parallel trials out of {b.max_trials} (more than a tenth): a "
            "Bayesian search learns little between rounds; lower max_parallel to "
            f"{max(1, b.max_trials // 10)} or use strategy: random"))
    n_dims = len(spec.parameters)
    if b.max_trials < 2 * n_dims and spec.strategy not in ("grid",):
        out.append(LintWarning(
            "budget.max_trials",
            f"{b.max_trials} trials for {n_dims} parameters: fewer than two trials per "
            "parameter; raise max_trials or tune fewer parameters"))
    return out
