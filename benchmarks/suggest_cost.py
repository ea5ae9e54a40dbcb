"""How long ``auto`` takes to suggest a trial, at trial ~100 and at trial 200 (issue 21,
item 4: "the median suggestion time at trial 200 is ≤ 100 ms on these 2 cores").

For each dimension, a plain Optuna ask/tell loop of 200 trials with the sampler the engine
builds for a ``strategy: auto`` spec (:func:`pipetune.backends.local.space.make_sampler`),
on ``sum(x²) + sin(5·x₀)`` over [-5, 5]^d. A suggestion is ``study.ask()`` plus drawing
every parameter; the figure is the median over trials 191-200 (and 91-100, GP's last
before the handover). ``gp`` is the
same loop with GP throughout (``auto`` before the handover), for comparison.

    python -m benchmarks.suggest_cost --out benchmarks/results/suggest_cost.json
    python -m benchmarks.suggest_cost --dims 2 --trials 30 --handover-at 15   # smoke
"""

from __future__ import annotations

from benchmarks.pool import single_threaded_env

single_threaded_env()  # before numpy is imported anywhere

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import report  # noqa: E402


def _spec(dim: int, trials: int):
    from pipetune.spec import load_spec

    return load_spec({
        "parameters": [{"name": f"x{i}", "type": "continuous", "min": -5.0, "max": 5.0}
                       for i in range(dim)],
        "objectives": [{"metric": "loss"}], "trial": {"callable": "m:f"},
        "budget": {"max_trials": trials}, "seed": 0})


def sampler(spec, *, handover: bool):
    """``auto``'s sampler for ``spec``; with ``handover`` False, its GP throughout (what
    ``strategy: gp`` builds: the same GP, never handed over)."""
    from pipetune.backends.local import space

    return space.make_sampler(spec if handover else spec.with_overrides(strategy="gp"))


def suggestion_times(dim: int, trials: int, *, handover: bool) -> list[float]:
    """Seconds of each trial's suggestion, in trial order."""
    import optuna

    from pipetune.backends.local import space

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    spec = _spec(dim, trials)
    study = optuna.create_study(sampler=sampler(spec, handover=handover))
    times = []
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        x = [v for v in space.suggest(spec, trial).values()]
        times.append(time.perf_counter() - t0)
        study.tell(trial, sum(v * v for v in x) + math.sin(5 * x[0]))
    return times


def measure(dims: list[int], trials: int) -> dict[str, Any]:
    suggestion_times(2, 15, handover=False)  # imports and first-call set-up (torch), uncounted
    rows = []
    late = slice(trials - 10, trials)
    middle = slice(trials // 2 - 10, trials // 2)  # the last of GP's (trials 90-99 of 200)
    for dim in dims:
        row: dict[str, Any] = {"dim": dim}
        for name, handover in (("auto", True), ("gp", False)):
            times = suggestion_times(dim, trials, handover=handover)
            row[name] = {"middle_ms": 1000 * statistics.median(times[middle]),
                         "late_ms": 1000 * statistics.median(times[late]),
                         "run_s": sum(times)}
        rows.append(row)
    return {"trials": trials, "rows": rows, "target_ms": 100}


def markdown(result: dict[str, Any]) -> str:
    n = result["trials"]
    lines = [f"Median suggestion time (ask + draw), plain loop, {n} trials, seed 0", "",
             f"| dimension | `auto` (GP) at ~{n // 2 - 5} | `auto` at {n} | GP throughout at {n} | "
             f"whole run: `auto` / GP |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['dim']} | {r['auto']['middle_ms']:.1f} ms | "
                     f"{r['auto']['late_ms']:.1f} ms | {r['gp']['late_ms']:.1f} ms | "
                     f"{r['auto']['run_s']:.1f} s / {r['gp']['run_s']:.1f} s |")
    lines += ["", f"Target at trial {n}: ≤ {result['target_ms']} ms."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="2,5,10,20")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--handover-at", type=int, default=None,
                        help="move auto's handover from trial 100 (a smoke run's shorter job)")
    parser.add_argument("--out", default=None, help="write the result as JSON (and .md)")
    args = parser.parse_args(argv)
    if args.handover_at is not None:
        from pipetune.backends.local import space

        space.GP_TRIALS = args.handover_at
    result = measure([int(d) for d in args.dims.split(",")], args.trials)
    report.emit(result, markdown(result), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
