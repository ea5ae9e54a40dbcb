"""The benchmark harness: every benchmark of issue 10 in one run, ratios measured side by side.

    python -m benchmarks.run             # the full harness (~30 min on 2 cores), `make bench`
    python -m benchmarks.run --quick     # a smoke run of every part (~1 min), `make bench-quick`
    python -m benchmarks.run --only search_quality,parallelism --workers 2
    python -m benchmarks.run --resume    # keep the sections an interrupted run finished
    python -m benchmarks.run --only search_quality --plan bbob5 --workers 1 \
        --reuse benchmarks/results/latest.json --out benchmarks/results/search_bbob5.json
                                         # issue 10's 5-seed BBOB grid, reusing seed-0 runs
    python -m benchmarks.run --rescore --out benchmarks/results/latest.json
                                         # recompute a stored result's scores (no runs)
    python -m benchmarks.run --only search_quality --plan tune --instances tuning \
        --contenders auto,random,optuna_cmaes --workers 1
                                         # a tuning run on BBOB instances 1-5 (issue 21)
    python -m benchmarks.run --only search_quality --plan tasks --workers 1 \
        --out benchmarks/results/search_tasks.json
                                         # issue 21's mixed, conditional and noisy tasks

Parts: 1. engine overhead and 5. coordinator memory (:mod:`benchmarks.overhead`), every
entry point's per-trial cost, flatness, reads and memory at 10,000 trials
(:mod:`benchmarks.entry_points`),
2. search quality (:mod:`benchmarks.search_quality`), 3. parallelism
(:mod:`benchmarks.parallelism`), 4. early stopping (:mod:`benchmarks.early_stopping`).
Writes the result as JSON and as markdown (``--out``, default ``benchmarks/results/``) and
prints the markdown.
"""

from __future__ import annotations

from benchmarks.pool import single_threaded_env

single_threaded_env()  # before numpy is imported anywhere

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SECTIONS = ("overhead", "memory", "entry_points", "search_quality", "early_stopping",
            "parallelism")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def _meta(argv: list[str]) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "command": "python -m benchmarks.run " + " ".join(argv),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
                   "shared with other engineers' test runs",
        "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "versions": ", ".join(f"{d} {_version(d)}" for d in
                              ("optuna", "torch", "scikit-learn", "coco-experiment", "numpy"))
                    + f", python {platform.python_version()}",
    }


def run(quick: bool, only: list[str], workers: int,
        checkpoint: Path | None = None, done: dict[str, Any] | None = None,
        plan: str | None = None, reuse: dict[str, Any] | None = None,
        sensitivity: bool = False, plan_options: dict[str, Any] | None = None,
        es_modes: list[str] | None = None, es_seeds: list[int] | None = None,
        es_curve: str = "mlp81") -> dict[str, Any]:
    """Run the selected sections; the result dict (also written by :func:`main`).

    With ``checkpoint``, the result so far is written there after each section, so a long
    run that is interrupted keeps the sections it finished; search quality also appends each
    finished run to ``<checkpoint>.runs.jsonl`` and skips the runs found there.
    ``plan_options``: keyword arguments of :func:`benchmarks.search_quality.with_options`
    (the BBOB instances, functions, dimensions, contenders, budgets) applied to the plan.
    ``es_modes``: the early-stopping modes to run (with ``none``, which sets the targets);
    ``es_seeds``: their seeds (default 0 .. n-1); ``es_curve``: which early-stopping
    benchmark (:data:`benchmarks.early_stopping.CURVES`).
    """
    from benchmarks import early_stopping, overhead, parallelism, search_quality

    result: dict[str, Any] = {"quick": quick}
    n, repeats = (30, 1) if quick else (200, 3)
    for section in only:
        if done and section in done:
            result[section] = done[section]
            print(f"== {section}: kept from the checkpoint", file=sys.stderr, flush=True)
            continue
        t0 = time.perf_counter()
        print(f"== {section}", file=sys.stderr, flush=True)
        if section == "overhead":
            result[section] = {"subprocess": overhead.subprocess_overhead(n, repeats),
                               "in_process": overhead.inprocess_overhead(n, repeats)}
        elif section == "memory":
            result[section] = overhead.coordinator_memory(100 if quick else 1000)
        elif section == "entry_points":
            from benchmarks import entry_points

            result[section] = entry_points.main(["--quick"] if quick else [])
        elif section == "search_quality":
            name = plan or ("quick" if quick else "default")
            cache = checkpoint.with_suffix(".runs.jsonl") if checkpoint is not None else None
            the_plan = search_quality.with_options(search_quality.PLANS[name],
                                                   **(plan_options or {}))
            result[section] = search_quality.run(the_plan, workers, cache=cache, reuse=reuse)
            result[section]["plan"]["name"] = name
            if plan_options:
                result[section]["plan"]["options"] = plan_options
        elif section == "parallelism":
            result[section] = parallelism.run(quick, workers)
        elif section == "early_stopping":
            result[section] = early_stopping.run(quick, workers, sensitivity=sensitivity,
                                                 modes=es_modes, seeds=es_seeds,
                                                 curve=es_curve)
        result[section]["section_seconds"] = time.perf_counter() - t0
        print(f"   {section}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        if checkpoint is not None:
            checkpoint.write_text(json.dumps(result, indent=1, default=float))
    return result


def _amend(out: Path, result: dict[str, Any], note: str) -> dict[str, Any]:
    """Record how a stored result was changed, save it and its markdown, print the latter."""
    from benchmarks import report

    result["meta"].setdefault("reruns", []).append(note)
    out.write_text(json.dumps(result, indent=1, default=float))
    md = report.markdown(result)
    out.with_suffix(".md").write_text(md)
    print(md)
    return result


def _merge_early_stopping(out: Path, parts: list[Path], meta: dict[str, Any]) -> dict[str, Any]:
    """Write at ``out`` the early-stopping results of ``parts`` merged (and their markdown)."""
    from benchmarks import early_stopping, report

    results = [json.loads(p.read_text()) for p in parts]
    merged = {"quick": results[0]["quick"],
              "early_stopping": early_stopping.merge([r["early_stopping"] for r in results])}
    merged["meta"] = {**meta, "merged": [{"file": str(p), **r["meta"]}
                                         for p, r in zip(parts, results)]}
    out.write_text(json.dumps(merged, indent=1, default=float))
    md = report.markdown(merged)
    out.with_suffix(".md").write_text(md)
    print(md)
    return merged


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {text!r}") from None


def _seeds(text: str) -> list[int]:
    """``"5-14"`` or ``"5,6,9"``: the seeds, each >= 0."""
    first, dash, last = text.partition("-")
    seeds = (list(range(int(first), int(last) + 1)) if dash and first.strip().isdigit()
             and last.strip().isdigit() else _ints(text))
    if not seeds or min(seeds) < 0:
        raise ValueError(f"expected seeds >= 0 (e.g. 5-14 or 5,6,7), got {text!r}")
    return seeds


def _plan_options(args: argparse.Namespace) -> dict[str, Any]:
    """The search-quality plan options given on the command line (checked)."""
    from benchmarks import search_quality

    options: dict[str, Any] = {}
    if args.instances is not None:
        named = {"tuning": search_quality.TUNING_INSTANCES,
                 "held_out": search_quality.HELD_OUT_INSTANCES}
        options["instances"] = list(named.get(args.instances) or _ints(args.instances))
    for flag, key in (("functions", "functions"), ("dims", "dims"),
                      ("bbob_budgets", "bbob_budgets"), ("budgets", "budgets")):
        if getattr(args, flag, None) is not None:
            options[key] = _ints(getattr(args, flag))
    if getattr(args, "tasks", None) is not None:
        options["tasks"] = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if getattr(args, "task_seeds", None) is not None:
        options["task_seeds"] = args.task_seeds
    if getattr(args, "first_task_seed", None) is not None:
        options["first_task_seed"] = args.first_task_seed
    if args.contenders is not None:
        options["names"] = [c.strip() for c in args.contenders.split(",") if c.strip()]
    search_quality.with_options(search_quality.PLANS["quick"], **options)  # raises if invalid
    return options


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--workers", type=int, default=2, help="processes for independent runs")
    parser.add_argument("--resume", action="store_true",
                        help="keep the sections an interrupted run finished (its .partial.json)")
    parser.add_argument("--rerun", metavar="CONTENDER:PREFIX", default=None,
                        help="with --resume on a finished result: run one contender again on "
                        "the problems starting with PREFIX (e.g. auto:sklearn/ after a change "
                        "of the auto rule) and rescore; other sections are kept")
    parser.add_argument("--plan", default=None,
                        help="search-quality plan (search_quality.PLANS; default: quick or "
                        "default)")
    parser.add_argument("--instances", default=None,
                        help="search quality: BBOB instance indices 1..15 (comma-separated), or "
                        "'tuning' / 'held_out' (search_quality.TUNING_INSTANCES / "
                        "HELD_OUT_INSTANCES); default: the plan's")
    parser.add_argument("--functions", default=None,
                        help="search quality: BBOB functions (comma-separated, 1..24)")
    parser.add_argument("--dims", default=None,
                        help="search quality: BBOB dimensions (comma-separated)")
    parser.add_argument("--bbob-budgets", default=None,
                        help="search quality: BBOB budgets (comma-separated trial counts)")
    parser.add_argument("--tasks", default=None,
                        help="search quality: scikit-learn tasks (comma-separated names)")
    parser.add_argument("--task-seeds", type=int, default=None,
                        help="search quality: seeds per scikit-learn task (0..n-1, or from "
                        "--first-task-seed)")
    parser.add_argument("--first-task-seed", type=int, default=None,
                        help="search quality: the scikit-learn tasks' first seed (default 0); "
                        "0-4 are the tuning seeds, 5-9 were held out for issue 21 item 2")
    parser.add_argument("--budgets", default=None,
                        help="search quality: scikit-learn task budgets (comma-separated)")
    parser.add_argument("--contenders", default=None,
                        help="search quality: contenders (comma-separated; "
                        "benchmarks.contenders.KNOWN)")
    parser.add_argument("--reuse", metavar="RESULT.json", default=None,
                        help="take the search-quality runs of an earlier result that match the "
                        "plan instead of running them again")
    parser.add_argument("--rescore", action="store_true",
                        help="recompute the search-quality scores of the result at --out with "
                        "the current scoring (no runs) and re-render it")
    parser.add_argument("--sensitivity", action="store_true",
                        help="early stopping: also run the first-rung sensitivity modes "
                        "(min_resource 3), as recorded in results/early_stopping.json")
    parser.add_argument("--es-modes", default=None,
                        help="early stopping: only these modes (comma-separated), with none")
    parser.add_argument("--es-seeds", default=None,
                        help="early stopping: the seeds (comma-separated, or a range A-B); "
                        "default 0..4 (1 with --quick); 0-4 are the tuning seeds, so a "
                        "held-out check takes others, e.g. 5-14")
    parser.add_argument("--es-curve", default="mlp81", choices=("mlp81", "long"),
                        help="early stopping: mlp81 (MLPClassifier, 81 epochs, the default) or "
                        "long (the same model in numpy on 2,000 rows, 243 epochs, issue 21)")
    parser.add_argument("--es-merge", metavar="A.json,B.json", default=None,
                        help="early stopping: merge the results of runs on different seeds "
                        "(e.g. one process per seed) into --out, rescored over all seeds (no runs)")
    parser.add_argument("--out", default=None,
                        help="JSON output path (default benchmarks/results/{quick,latest}.json)")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; valid: {', '.join(SECTIONS)}")
    import optuna

    from benchmarks import report

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    meta = _meta(argv)
    out = Path(args.out) if args.out else (
        Path(__file__).parent / "results" / ("quick.json" if args.quick else "latest.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.json")
    if args.rescore:
        from benchmarks import search_quality

        result = json.loads(out.read_text())
        search_quality.rescore(result["search_quality"])
        return _amend(out, result, f"{meta['date']}: `{meta['command']}` rescored search "
                                   "quality (no runs)")
    if args.es_merge:
        return _merge_early_stopping(out, [Path(x) for x in args.es_merge.split(",") if x], meta)
    if args.rerun:
        from benchmarks import search_quality

        contender, _, prefix = args.rerun.partition(":")
        result = json.loads(out.read_text())
        redone = search_quality.rerun(result["search_quality"], contender, prefix, args.workers)
        return _amend(out, result, f"{meta['date']}: `{meta['command']}` re-ran {contender} "
                                   f"on {len(redone)} problems")
    try:
        plan_options = _plan_options(args)
        es_seeds = _seeds(args.es_seeds) if args.es_seeds is not None else None
    except ValueError as e:
        parser.error(str(e))
    done = json.loads(partial.read_text()) if args.resume and partial.exists() else None
    if done and done.get("quick") != args.quick:
        parser.error(f"{partial} is from a {'quick' if done.get('quick') else 'full'} run")
    runs_cache = partial.with_suffix(".runs.jsonl")
    if not args.resume:
        runs_cache.unlink(missing_ok=True)  # a fresh run: no finished runs to keep
    reuse = json.loads(Path(args.reuse).read_text())["search_quality"] if args.reuse else None
    t0 = time.perf_counter()
    result = run(args.quick, only, args.workers, checkpoint=partial, done=done,
                 plan=args.plan, reuse=reuse, sensitivity=args.sensitivity,
                 plan_options=plan_options,
                 es_modes=args.es_modes.split(",") if args.es_modes else None,
                 es_seeds=es_seeds, es_curve=args.es_curve)
    meta["wall_seconds"] = time.perf_counter() - t0
    meta["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result["meta"] = meta
    out.write_text(json.dumps(result, indent=1, default=float))
    md = report.markdown(result)
    out.with_suffix(".md").write_text(md)
    out.with_suffix(".partial.json").unlink(missing_ok=True)
    runs_cache.unlink(missing_ok=True)
    print(md)
    return result


if __name__ == "__main__":
    main()
