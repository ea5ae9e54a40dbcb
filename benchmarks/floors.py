"""The lowest cost any design could reach on this machine, for issue 19's targets that sit
below it. Nothing here is pipetune's: each figure is a bound a pipetune path cannot beat.

1. ``durability``: plain Optuna in memory, against the same loop whose storage also appends
   one JSON line per storage write under ``flock`` (:class:`AppendingInMemoryStorage`: the
   file kept open, no fsync, no read-back, no replay). That is the least a durable journal
   can add to each trial and still survive a crash of the coordinator with every finished
   trial recorded; the issue keeps the journal's append under ``flock``. Random sampler,
   in-process objective, so the storage is all there is to measure. Issue 19's target for
   the engine is 1.5× the in-memory loop.
2. ``start``: whole processes, each a new interpreter, as a user runs them: ``python -c
   pass``, ``python -c "import optuna"``, ``pipetune --help`` (pipetune's CLI imported) and
   a 1-trial ``pipetune tune``; and a bare spawn loop of ``n`` no-op trials. If the CLI's
   cost per trial equalled the bare loop's, ``pipetune tune`` of ``n`` trials would still
   pay its start once: the target ``tune ≤ 1.15 × bare`` leaves ``0.15 × bare`` for it.
   ``python -c "import optuna"`` alone is the least that start can be (the engine's sampler
   is Optuna's).

    python -m benchmarks.floors --out benchmarks/results/floors.json
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

from benchmarks import report

#: the storage writes Optuna's in-memory storage exposes (each gets one appended line)
WRITES = ("create_new_study", "delete_study", "set_study_user_attr", "set_study_system_attr",
          "create_new_trial", "set_trial_param", "set_trial_state_values",
          "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr")


class AppendingInMemoryStorage(optuna.storages.InMemoryStorage):
    """Optuna's in-memory storage that also appends each write to a file under ``flock``:
    one JSON line per call, written after the call succeeds, the file kept open. A
    measuring device (it is never read back), not a storage to use.

    Example:
        >>> import optuna, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "writes.log")
        >>> study = optuna.create_study(storage=AppendingInMemoryStorage(path))
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        >>> len(open(path).read().splitlines()) >= 2 * 3  # a trial: create, param, end
        True
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (AttributeError, OSError):
            pass

    def _append(self, op: str, args: tuple) -> None:
        line = json.dumps({"op": op, "args": args}, default=repr).encode() + b"\n"
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            os.write(self._fd, line)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def _appending(name: str):
    inner = getattr(optuna.storages.InMemoryStorage, name)

    def write(self: AppendingInMemoryStorage, *args: Any, **kwargs: Any) -> Any:
        out = inner(self, *args, **kwargs)
        self._append(name, (*args, *kwargs.values()))
        return out

    write.__name__ = name
    return write


for _name in WRITES:
    setattr(AppendingInMemoryStorage, _name, _appending(_name))


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    depth = trial.suggest_int("depth", 1, 10)
    return (x - 1) ** 2 + lr + depth / 10


def _loop_ms_per_trial(storage: optuna.storages.BaseStorage, n: int) -> float:
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    t0 = time.perf_counter()
    study.optimize(_objective, n_trials=n)
    return 1000 * (time.perf_counter() - t0) / n


def durability(n: int, repeats: int) -> dict:
    """Plain Optuna in memory against the same loop appending each write under flock,
    alternated ``repeats`` times; medians."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    memory, appending = [], []
    for _ in range(repeats):
        memory.append(_loop_ms_per_trial(optuna.storages.InMemoryStorage(), n))
        with tempfile.TemporaryDirectory() as d:
            appending.append(_loop_ms_per_trial(AppendingInMemoryStorage(f"{d}/writes.log"), n))
    m, a = statistics.median(memory), statistics.median(appending)
    return {"trials": n, "optuna_inmemory_ms_per_trial": m, "inmemory_plus_appends_ms_per_trial": a,
            "ratio": a / m, "engine_target": 1.5}


def _seconds(argv: list[str], env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def start(n: int, repeats: int) -> dict:
    """Whole-process start figures against the start budget of an ``n``-trial CLI run."""
    from benchmarks import entry_points as ep

    ep.compile_bytecode()  # as a wheel install has it (see entry_points.compile_bytecode)
    env = {**os.environ, "PYTHONPATH": str(ep.ROOT)}
    out: dict[str, Any] = {
        "python -c pass": _seconds([sys.executable, "-c", "pass"], env, repeats),
        "python -c 'import optuna'": _seconds([sys.executable, "-c", "import optuna"], env, repeats),
        "pipetune --help": _seconds([*ep.PIPETUNE, "--help"], env, repeats),
    }
    with tempfile.TemporaryDirectory() as d:
        spec = ep._write_spec(Path(d), ep.spec_dict(1, {"command": ep.NOOP}))
        tune_env = ep._env(Path(d))
        times = []
        for i in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([*ep.PIPETUNE, "tune", str(spec), "--name", f"one{i}", "--no-progress"],
                           env=tune_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        out["pipetune tune, 1 trial"] = statistics.median(times)
    bare = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            bare.append(ep.bare_spawn(n, Path(d)).wall)
    budget = 0.15 * statistics.median(bare)
    return {"seconds": out, "bare_spawn_trials": n, "bare_spawn_s": statistics.median(bare),
            "start_budget_s": budget,
            "import_optuna_vs_budget": out["python -c 'import optuna'"] / budget}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000, help="trials of the durability loops")
    parser.add_argument("--cli-trials", type=int, default=200, help="trials of the bare spawn loop")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = {"command": "python -m benchmarks.floors " + " ".join(argv if argv is not None else sys.argv[1:]),
              "load_before": os.getloadavg(),
              "durability": durability(args.trials, args.repeats),
              "start": start(args.cli_trials, args.repeats),
              "load_after": os.getloadavg()}
    report.emit_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
