"""Per-trial cost of the local engine, against the same work done bare.

    python -m benchmarks.overhead            # 200 trials, then the 1,000-trial memory run
    python -m benchmarks.overhead --quick    # 30 trials, 100 for memory (a smoke test)

1. no-op subprocess trials: the engine (durable journal storage, TPE, one trial at a time)
   vs spawning the same command in a plain loop, each into its own directory and log files
   as the engine does. Target <= 1.15x. Also reported: the same loop into one reused pair of
   log files (no per-trial files), the floor.
2. in-process callable trials: the engine (durable journal storage) vs a plain Optuna loop
   with in-memory storage and the same sampler. Target <= 1.5x. Also reported: the same
   plain loop on Optuna's own durable storages (its journal file backend, and SQLite).
3. peak RSS of the coordinator process for a 1,000-trial job. Target <= 200 MB.

Each measurement alternates engine and baseline runs and keeps the median, so a busy
neighbour on the machine skews both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

NOOP = [sys.executable, "-S", "-c", "print('loss=0.5')"]
PARAMS = [
    {"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
    {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1.0, "scaling": "log"},
    {"name": "depth", "type": "integer", "min": 1, "max": 10},
]


def _spec(trials: int, trial: dict) -> dict:
    return {"parameters": PARAMS, "objectives": [{"metric": "loss", "goal": "minimize"}],
            "metrics": [{"name": "loss", "regex": r"loss=([0-9.]+)"}] if "command" in trial else [],
            "trial": trial, "strategy": "tpe", "seed": 0,
            "budget": {"max_trials": trials, "max_parallel": 1, "max_failed": trials}}


def noop_objective(params: dict, ctx) -> float:
    return (params["x"] - 1) ** 2 + params["lr"] + params["depth"] / 10


def _bare_spawn(n: int, tmp: Path) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        d = tmp / f"bare{i}"
        d.mkdir()
        with open(d / "stdout.log", "wb") as out, open(d / "stderr.log", "wb") as err:
            subprocess.run(NOOP, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def _bare_spawn_no_dirs(n: int, tmp: Path) -> float:
    """The floor: the same spawns into one pair of log files made once (no per-trial files)."""
    out_path, err_path = tmp / "stdout.log", tmp / "stderr.log"
    t0 = time.perf_counter()
    for _ in range(n):
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            subprocess.run(NOOP, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def _engine(n: int, tmp: Path, trial: dict) -> float:
    from pipetune import get_backend, load_spec

    os.environ["PIPETUNE_HOME"] = str(tmp / ".pipetune")
    spec = load_spec(_spec(n, trial))
    be = get_backend("local")
    t0 = time.perf_counter()
    ref = be.launch(spec, "bench", detach=False)
    elapsed = time.perf_counter() - t0
    assert be.status(ref).trials.complete == n, be.status(ref)
    return elapsed


def _plain_optuna(n: int, storage: str = "memory", tmp: Path | None = None) -> float:
    """A plain ``study.optimize`` loop; ``storage``: memory, journal (Optuna's own journal
    file backend) or sqlite, the latter two in ``tmp``."""
    from pipetune.backends.local import space
    from pipetune.spec import load_spec

    spec = load_spec(_spec(n, {"callable": "benchmarks.overhead:noop_objective"}))
    durable: optuna.storages.BaseStorage | str | None = None
    if storage == "journal":
        backend = optuna.storages.journal.JournalFileBackend(str(tmp / "optuna-journal.log"))
        durable = optuna.storages.JournalStorage(backend)
    elif storage == "sqlite":
        durable = f"sqlite:///{tmp / 'optuna.db'}"
    study = optuna.create_study(sampler=space.make_sampler(spec), storage=durable)

    def objective(trial: optuna.Trial) -> float:
        return noop_objective(space.suggest(spec, trial), None)

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - t0


def _median_pair(repeats: int, engine, baseline) -> tuple[float, float]:
    e, b = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            b.append(baseline(Path(d)))
        with tempfile.TemporaryDirectory() as d:
            e.append(engine(Path(d)))
    return statistics.median(e), statistics.median(b)


def _median(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            times.append(run(Path(d)))
    return statistics.median(times)


def subprocess_overhead(n: int, repeats: int) -> dict:
    engine, bare = _median_pair(repeats, lambda d: _engine(n, d, {"command": NOOP}),
                                lambda d: _bare_spawn(n, d))
    floor = _median(repeats, lambda d: _bare_spawn_no_dirs(n, d))
    return {"trials": n, "engine_ms_per_trial": 1000 * engine / n,
            "bare_spawn_ms_per_trial": 1000 * bare / n, "ratio": engine / bare, "target": 1.15,
            "bare_spawn_no_dirs_ms_per_trial": 1000 * floor / n,
            "ratio_vs_no_dirs": engine / floor}


def inprocess_overhead(n: int, repeats: int) -> dict:
    trial = {"callable": "benchmarks.overhead:noop_objective"}
    engine, plain = _median_pair(repeats, lambda d: _engine(n, d, trial), lambda d: _plain_optuna(n))
    journal, sqlite = _median_pair(repeats, lambda d: _plain_optuna(n, "journal", d),
                                   lambda d: _plain_optuna(n, "sqlite", d))
    return {"trials": n, "engine_ms_per_trial": 1000 * engine / n,
            "plain_optuna_inmemory_ms_per_trial": 1000 * plain / n, "ratio": engine / plain,
            "target": 1.5,
            "plain_optuna_journal_file_ms_per_trial": 1000 * journal / n,
            "plain_optuna_sqlite_ms_per_trial": 1000 * sqlite / n,
            "ratio_vs_journal_file": engine / journal, "ratio_vs_sqlite": engine / sqlite}


def coordinator_memory(n: int) -> dict:
    """Runs a job of ``n`` no-op subprocess trials in a child process; its own peak RSS."""
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.overhead", "--_memory-child", str(n), d],
                              capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[1])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["target_mb"] = 200
    return result


def peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    ``VmHWM`` from /proc on Linux: ``ru_maxrss`` survives ``exec`` there, so in a child it
    would report the parent's size when the parent is bigger (the harness's main process
    has imported torch by the time it measures memory).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_child(n: int, tmp: str) -> None:
    t0 = time.perf_counter()
    _engine(n, Path(tmp), {"command": NOOP})
    print(json.dumps({"trials": n, "peak_rss_mb": peak_rss_mb(), "seconds": time.perf_counter() - t0}))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-trials", type=int, default=1000)
    parser.add_argument("--_memory-child", nargs=2, dest="memory_child")
    args = parser.parse_args(argv)
    if args.memory_child:
        _memory_child(int(args.memory_child[0]), args.memory_child[1])
        return {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = 30 if args.quick else args.trials
    repeats = 1 if args.quick else args.repeats
    results = {
        "subprocess": subprocess_overhead(n, repeats),
        "in_process": inprocess_overhead(n, repeats),
        "memory": coordinator_memory(100 if args.quick else args.memory_trials),
    }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
