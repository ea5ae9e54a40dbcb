"""What pipetune's engine adds to a TPE run, against plain Optuna with the identical sampler
(issue 21, item 4: "pipetune's TPE path costs no more than 1.1× plain Optuna per run").

Each problem is tuned twice per repeat, in turn: by the local engine with ``strategy: tpe``
(:func:`benchmarks.contenders.run_engine`: a job, its durable journal, in-process trials) and
by a plain Optuna ask/tell loop in memory whose sampler is built by the same
:func:`pipetune.backends.local.space.make_sampler`. Both must draw the same values in the
same order (checked: otherwise the times compare different searches). A run's time is the
engine's whole ``launch`` (job created, trials run, answers kept) against the loop's.

A third loop is the durability floor (:mod:`benchmarks.floors`): the same plain loop whose
in-memory storage also appends each write to a file under ``flock``. No engine that records
every write durably, as pipetune's journal does, can cost less than it.

    python -m benchmarks.tpe_path --out benchmarks/results/tpe_path.json
    python -m benchmarks.tpe_path --trials 20 --problems bbob/f1/d2/i1 --repeats 1  # smoke
"""

from __future__ import annotations

from benchmarks.pool import single_threaded_env

single_threaded_env()  # before numpy is imported anywhere

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks import contenders, problems, report  # noqa: E402

#: the problems of the first measurement (RESULTS.md, "Issue 21: cost, measured")
PROBLEMS = tuple(problems.bbob_id(f, d, 1) for f in (1, 6, 15, 21) for d in (2, 10))


def plain_tpe(problem_id: str, seed: int, budget: int, storage: Any = None) -> dict[str, Any]:
    """A plain ask/tell loop (in memory unless ``storage`` is given) with the sampler the
    engine builds for the spec."""
    from pipetune.backends.local import space

    return contenders.run_plain(problem_id, seed, budget, lambda spec: space.make_sampler(
        spec.with_overrides(strategy="tpe")), storage=storage)


def floor_tpe(problem_id: str, seed: int, budget: int) -> dict[str, Any]:
    """:func:`plain_tpe` on Optuna's in-memory storage that appends each write under flock."""
    from benchmarks.floors import AppendingInMemoryStorage

    with tempfile.TemporaryDirectory() as d:
        return plain_tpe(problem_id, seed, budget, AppendingInMemoryStorage(f"{d}/writes.log"))


def measure(problem_ids: tuple[str, ...], trials: int, repeats: int, seed: int = 0) -> dict:
    rows = []
    for problem_id in problem_ids:
        engine, plain, floor = [], [], []
        for _ in range(repeats):
            e = contenders.run_engine(problem_id, seed, trials, strategy="tpe")
            p = plain_tpe(problem_id, seed, trials)
            f = floor_tpe(problem_id, seed, trials)
            if not e["values"] == p["values"] == f["values"]:
                raise AssertionError(f"{problem_id}: the engine and the plain loops drew "
                                     "different trials; their times would not compare")
            engine.append(e["seconds"])
            plain.append(p["seconds"])
            floor.append(f["seconds"])
        e_s, p_s, f_s = statistics.median(engine), statistics.median(plain), statistics.median(floor)
        rows.append({"problem": problem_id, "engine_s": e_s, "plain_s": p_s, "floor_s": f_s,
                     "ratio": e_s / p_s, "floor_ratio": f_s / p_s, "same_trials": True})
    return {"trials": trials, "repeats": repeats, "seed": seed, "rows": rows,
            "median_ratio": statistics.median(r["ratio"] for r in rows),
            "median_floor_ratio": statistics.median(r["floor_ratio"] for r in rows), "target": 1.1}


def markdown(result: dict) -> str:
    lines = [f"TPE, {result['trials']} trials, seed {result['seed']}, median of "
             f"{result['repeats']} alternated runs; the same trials in both (checked)", "",
             "| problem | engine | plain Optuna | ratio | durability floor | floor ratio |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['problem']} | {r['engine_s']:.3f} s | {r['plain_s']:.3f} s | "
                     f"{r['ratio']:.2f} | {r['floor_s']:.3f} s | {r['floor_ratio']:.2f} |")
    lines += ["", f"Median ratio: **{result['median_ratio']:.2f}×** (target ≤ "
              f"{result['target']}×); the durability floor's: {result['median_floor_ratio']:.2f}×"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--out", default=None, help="write the result as JSON (and .md)")
    args = parser.parse_args(argv)
    result = measure(tuple(args.problems.split(",")), args.trials, args.repeats)
    report.emit(result, markdown(result), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
