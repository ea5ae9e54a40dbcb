"""Per-trial cost through every entry point a user runs, and how it grows with the job.

    python -m benchmarks.entry_points                  # the full set (~25 min on 2 cores)
    python -m benchmarks.entry_points --quick          # every part, tiny sizes (~2 min)
    python -m benchmarks.entry_points --only paths --trials 200,2000

Parts (issue 19):

1. ``paths``: no-op subprocess trials through the Python API, the CLI (``pipetune tune``
   with its progress bar drawn, as in a terminal), ``pipetune launch`` + ``pipetune wait``,
   and the Airflow operator under ``dag.test()``; each against a bare spawn loop (own
   directory and log files per trial, as the engine does) and a plain Optuna loop on
   Optuna's own journal file storage spawning the same command. Wall and CPU time per
   trial; CPU counts the coordinator and its trials together (children's rusage). Random
   sampler, one trial at a time. The Airflow figure is marginal: (T(n) - T(n0)) / (n - n0),
   so Airflow's fixed start-up cost is not spread over the trials.
2. ``load``: the CLI against plain Optuna on its journal storage while a CPU burner keeps
   the second core busy: the plain loop both in this process (Optuna imported, the study
   made before the clock) and as a script in a new interpreter, which pays its start as
   ``pipetune tune`` does.
3. ``flat``: a 10,000-trial in-process job (random sampler): per-trial cost of the last
   decile against the first; at 2,000 trials the engine against plain Optuna in memory,
   with the random sampler and with TPE.
4. ``reads``: ``status``, ``best`` and ``trials --json`` on that 10,000-trial job, and on
   one still running (10,000 trials done, one waiting); and a job's wall time with a poller
   calling ``status`` every second against none.
5. ``memory``: the peak RSS of ``pipetune tune`` (the coordinator) over 10,000 no-op
   subprocess trials.
6. ``floors``: what no design can beat here (:mod:`benchmarks.floors`): Optuna in memory
   plus one flock'd append per storage write, and Python's and Optuna's start against the
   CLI's start budget.

Contenders alternate (A B A B ...) and the median of ``--repeats`` is kept, so a busy
neighbour skews both sides alike. Results print as JSON (and go to ``--out``).
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from benchmarks import report

ROOT = Path(__file__).resolve().parents[1]
NOOP = [sys.executable, "-S", "-c", "print('loss=0.5')"]
PARAMS = [
    {"name": "x", "type": "continuous", "min": -5.0, "max": 5.0},
    {"name": "lr", "type": "continuous", "min": 1e-4, "max": 1.0, "scaling": "log"},
    {"name": "depth", "type": "integer", "min": 1, "max": 10},
]
PIPETUNE = [sys.executable, "-m", "pipetune.cli"]


def spec_dict(trials: int, trial: dict, strategy: str = "random") -> dict:
    """A 3-parameter spec of ``trials`` trials, one at a time, that never stops early."""
    command = "command" in trial
    return {"parameters": PARAMS, "objectives": [{"metric": "loss", "goal": "minimize"}],
            "metrics": [{"name": "loss", "regex": r"loss=([0-9.]+)"}] if command else [],
            "trial": trial, "strategy": strategy, "seed": 0,
            "budget": {"max_trials": trials, "max_parallel": 1, "max_failed": trials}}


def noop_objective(params: dict, ctx: Any) -> float:
    """The in-process trial: a cheap closed form of the parameters."""
    return (params["x"] - 1) ** 2 + params["lr"] + params["depth"] / 10


def last_waits_objective(params: dict, ctx: Any) -> float:
    """:func:`noop_objective`, except that trial number ``$BENCH_LAST`` waits an hour: a job
    that keeps running once its other trials are done (the job is stopped after the reads)."""
    if ctx.number >= int(os.environ["BENCH_LAST"]):
        time.sleep(3600)
    return noop_objective(params, ctx)


# ---- measuring ------------------------------------------------------------------------------
class Clock:
    """Wall and CPU seconds of a block: this process's and its waited-for children's."""

    def __enter__(self) -> "Clock":
        self._wall = time.perf_counter()
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self._wall
        s, k = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (s.ru_utime + s.ru_stime - self._self.ru_utime - self._self.ru_stime
                    + k.ru_utime + k.ru_stime - self._kids.ru_utime - self._kids.ru_stime)


def _alternate(repeats: int, contenders: dict[str, Callable[[Path], Clock]]) -> dict[str, dict]:
    """Each contender ``repeats`` times, interleaved; medians of wall and CPU seconds."""
    walls: dict[str, list[float]] = {k: [] for k in contenders}
    cpus: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            with tempfile.TemporaryDirectory() as d:
                clock = run(Path(d))
            walls[name].append(clock.wall)
            cpus[name].append(clock.cpu)
    return {k: {"wall_s": statistics.median(walls[k]), "cpu_s": statistics.median(cpus[k])}
            for k in contenders}


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PIPETUNE_HOME": str(home / ".pipetune"), "PYTHONPATH": str(ROOT)}


def _write_spec(tmp: Path, spec: dict) -> Path:
    path = tmp / "spec.json"
    path.write_text(json.dumps(spec))
    return path


# ---- contenders -----------------------------------------------------------------------------
def bare_spawn(n: int, tmp: Path) -> Clock:
    """The same command spawned ``n`` times, each into its own directory and log files."""
    with Clock() as clock:
        for i in range(n):
            d = tmp / f"bare{i}"
            d.mkdir()
            with open(d / "stdout.log", "wb") as out, open(d / "stderr.log", "wb") as err:
                subprocess.run(NOOP, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=True)
    return clock


def _plain_optuna_study(n: int, tmp: Path) -> Callable[[], None]:
    """Optuna's own loop on its journal file storage, each trial spawning the command: the
    study made, and the loop to run."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp / "journal.log")))
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("x", -5, 5)
        trial.suggest_float("lr", 1e-4, 1.0, log=True)
        trial.suggest_int("depth", 1, 10)
        d = tmp / f"t{trial.number}"
        d.mkdir()
        with open(d / "stdout.log", "wb") as out, open(d / "stderr.log", "wb") as err:
            subprocess.run(NOOP, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=True)
        return float((d / "stdout.log").read_text().split("=")[1])

    return lambda: study.optimize(objective, n_trials=n)


def plain_optuna_subprocess(n: int, tmp: Path) -> Clock:
    """Optuna's own loop on its journal file storage, in this process (Optuna imported and
    the study made before the clock starts)."""
    loop = _plain_optuna_study(n, tmp)
    with Clock() as clock:
        loop()
    return clock


PLAIN_SCRIPT = ("import sys\nfrom pathlib import Path\nfrom benchmarks.entry_points import _plain_optuna_study\n"
                "_plain_optuna_study(int(sys.argv[1]), Path(sys.argv[2]))()\n")


def plain_optuna_script(n: int, tmp: Path) -> Clock:
    """The same loop as a script a user runs: a new interpreter that imports Optuna, the
    like-for-like comparison for ``pipetune tune``, which pays its own start too."""
    with Clock() as clock:
        subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(n), str(tmp)], env=_env(tmp), check=True,
                       stdout=subprocess.DEVNULL)
    return clock


def api(n: int, tmp: Path, trial: dict | None = None, strategy: str = "random") -> Clock:
    """``LocalBackend.launch(detach=False)``: the Python API, in this process."""
    from pipetune import get_backend, load_spec

    os.environ["PIPETUNE_HOME"] = str(tmp / ".pipetune")
    spec = load_spec(spec_dict(n, trial or {"command": NOOP}, strategy))
    backend = get_backend("local")
    with Clock() as clock:
        ref = backend.launch(spec, "bench", detach=False)
    done = backend.status(ref).trials.complete
    assert done == n, f"{done} of {n} trials complete"
    return clock


def cli_tune(n: int, tmp: Path) -> Clock:
    """``pipetune tune`` with its progress bar drawn as in a terminal."""
    spec = _write_spec(tmp, spec_dict(n, {"command": NOOP}))
    env = {**_env(tmp), "FORCE_COLOR": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "100"}
    with Clock() as clock:
        subprocess.run([*PIPETUNE, "tune", str(spec), "--name", "bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return clock


def cli_launch_wait(n: int, tmp: Path) -> Clock:
    """``pipetune launch`` then ``pipetune wait``. The detached coordinator is not a child
    of this process, so its CPU time is not in the figure: wall time is what counts here."""
    spec = _write_spec(tmp, spec_dict(n, {"command": NOOP}))
    env = _env(tmp)
    with Clock() as clock:
        subprocess.run([*PIPETUNE, "launch", str(spec), "--name", "bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*PIPETUNE, "wait", "bench", "--no-progress"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return clock


AIRFLOW_DAG = '''
from datetime import datetime
from airflow.sdk import DAG
from pipetune.airflow.operators.tuning import PipetuneTuningOperator
import json, os
with DAG("bench_entry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    PipetuneTuningOperator(task_id="tune", spec=json.loads(os.environ["BENCH_SPEC"]),
                           wait=True, poll_interval=0.5)
'''

AIRFLOW_RUNNER = '''
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("bench_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t0 = time.perf_counter()
run = module.dag.test()
print(json.dumps({"seconds": time.perf_counter() - t0, "state": str(run.state)}))
'''


def airflow_operator(n: int, tmp: Path) -> float:
    """Seconds of ``dag.test()`` of one PipetuneTuningOperator(wait=True) running ``n``
    trials, in a fresh Airflow home (migrated before the clock starts)."""
    home = tmp / "airflow"
    dags = tmp / "dags"
    home.mkdir()
    dags.mkdir()
    (dags / "bench_entry.py").write_text(AIRFLOW_DAG)
    inherited = {k: v for k, v in _env(tmp).items() if not k.startswith("AIRFLOW")}
    env = {**inherited, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
           "BENCH_SPEC": json.dumps(spec_dict(n, {"command": NOOP}))}
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = subprocess.run([sys.executable, "-c", AIRFLOW_RUNNER, str(dags / "bench_entry.py")],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dag.test() failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "success" in result["state"], result
    return result["seconds"]


def plain_optuna_inprocess(n: int, strategy: str) -> float:
    """Seconds of a plain in-memory ``study.optimize`` with pipetune's sampler for the spec."""
    import optuna

    from pipetune.backends.local import space
    from pipetune.spec import load_spec

    spec = load_spec(spec_dict(n, {"callable": "benchmarks.entry_points:noop_objective"}, strategy))
    study = optuna.create_study(sampler=space.make_sampler(spec))

    def objective(trial: optuna.Trial) -> float:
        return noop_objective(space.suggest(spec, trial), None)

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - t0


@contextmanager
def cpu_burner() -> Iterator[None]:
    """A process spinning on one core for as long as the block runs."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        proc.kill()
        proc.wait()


# ---- parts ----------------------------------------------------------------------------------
def _per_trial(figures: dict[str, dict], n: int, base: str) -> dict[str, dict]:
    out = {}
    for name, f in figures.items():
        out[name] = {"wall_ms_per_trial": 1000 * f["wall_s"] / n,
                     "cpu_ms_per_trial": 1000 * f["cpu_s"] / n,
                     "wall_vs_bare": f["wall_s"] / figures[base]["wall_s"],
                     "cpu_vs_bare": f["cpu_s"] / figures[base]["cpu_s"],
                     "wall_vs_optuna_journal": f["wall_s"] / figures["optuna_journal"]["wall_s"]}
    return out


def paths(sizes: list[int], repeats: int) -> dict:
    result: dict[str, Any] = {}
    for n in sizes:
        figures = _alternate(repeats, {
            "bare_spawn": lambda d: bare_spawn(n, d),
            "optuna_journal": lambda d: plain_optuna_subprocess(n, d),
            "api": lambda d: api(n, d),
            "cli_tune": lambda d: cli_tune(n, d),
            "cli_launch_wait": lambda d: cli_launch_wait(n, d),
        })
        result[str(n)] = _per_trial(figures, n, "bare_spawn")
    if len(sizes) >= 2:  # per-trial cost without the fixed start (Python, imports, job set-up)
        n1, n2 = sizes[0], sizes[-1]
        a, b = result[str(n1)], result[str(n2)]

        def extra(name: str) -> float:
            return (b[name]["wall_ms_per_trial"] * n2 - a[name]["wall_ms_per_trial"] * n1) / (n2 - n1)

        base = extra("bare_spawn")
        result["marginal"] = {name: {"wall_ms_per_trial": extra(name), "wall_vs_bare": extra(name) / base,
                                     "fixed_s": (a[name]["wall_ms_per_trial"] - extra(name)) * n1 / 1000}
                              for name in a}
    small, big = (10, 30) if sizes[0] < 100 else (20, sizes[0])
    times = {small: [], big: []}
    for _ in range(repeats):
        for size in (small, big):
            with tempfile.TemporaryDirectory() as d:
                times[size].append(airflow_operator(size, Path(d)))
    with tempfile.TemporaryDirectory() as d:
        bare = statistics.median(bare_spawn(big - small, Path(d)).wall for _ in range(1))
    marginal = (statistics.median(times[big]) - statistics.median(times[small])) / (big - small)
    result["airflow_operator"] = {"trials": [small, big], "marginal_wall_ms_per_trial": 1000 * marginal,
                                  "bare_spawn_wall_ms_per_trial": 1000 * bare / (big - small),
                                  "wall_vs_bare": marginal / (bare / (big - small))}
    return result


def under_load(n: int, repeats: int) -> dict:
    with cpu_burner():
        figures = _alternate(repeats, {
            "optuna_journal": lambda d: plain_optuna_subprocess(n, d),
            "optuna_journal_script": lambda d: plain_optuna_script(n, d),
            "cli_tune": lambda d: cli_tune(n, d),
            "api": lambda d: api(n, d),
        })
    return {"trials": n, **{k: {"wall_ms_per_trial": 1000 * v["wall_s"] / n,
                                "wall_vs_optuna_journal": v["wall_s"] / figures["optuna_journal"]["wall_s"],
                                "wall_vs_optuna_journal_script":
                                    v["wall_s"] / figures["optuna_journal_script"]["wall_s"]}
                            for k, v in figures.items()}}


def _trial_durations(home: Path, name: str) -> list[float]:
    """Seconds between consecutive trial completions of a finished local job."""
    from pipetune import get_backend
    from pipetune.job import JobRef

    os.environ["PIPETUNE_HOME"] = str(home)
    trials = get_backend("local").trials(JobRef(backend="local", id=name, name=name))
    from datetime import datetime

    ends = sorted(datetime.fromisoformat(t.finished_at) for t in trials if t.finished_at)
    return [(b - a).total_seconds() for a, b in zip(ends, ends[1:])]


def flat(big: int, mid: int, repeats: int, keep: Path | None = None) -> dict:
    callable_trial = {"callable": "benchmarks.entry_points:noop_objective"}
    home = keep or Path(tempfile.mkdtemp(prefix="pipetune-flat-"))
    with Clock() as clock:
        api(big, home, callable_trial)
    durations = _trial_durations(home / ".pipetune", "bench")
    decile = max(len(durations) // 10, 1)
    first = statistics.mean(durations[:decile])
    last = statistics.mean(durations[-decile:])
    out: dict[str, Any] = {"trials": big, "wall_ms_per_trial": 1000 * clock.wall / big,
                           "first_decile_ms": 1000 * first, "last_decile_ms": 1000 * last,
                           "last_vs_first": last / first, "target": 1.2}
    for strategy, target in (("random", 1.5), ("tpe", 1.2)):
        engine, plain = [], []
        for _ in range(repeats):
            plain.append(plain_optuna_inprocess(mid, strategy))
            with tempfile.TemporaryDirectory() as d:
                engine.append(api(mid, Path(d), callable_trial, strategy).wall)
        out[f"{strategy}_{mid}"] = {"engine_ms_per_trial": 1000 * statistics.median(engine) / mid,
                                    "optuna_inmemory_ms_per_trial": 1000 * statistics.median(plain) / mid,
                                    "ratio": statistics.median(engine) / statistics.median(plain),
                                    "target": target}
    out["home"] = str(home)
    return out


READ_IN_PROCESS = """
import os, sys, time, json
from pipetune.backends.local import LocalBackend
be = LocalBackend()
out = {}
for what in ("status", "best", "trials"):
    t0 = time.perf_counter(); getattr(be, what)(sys.argv[1]); first = time.perf_counter() - t0
    t0 = time.perf_counter(); getattr(be, what)(sys.argv[1]); again = time.perf_counter() - t0
    out[what] = {"first_s": first, "again_s": again}
print(json.dumps(out))
"""


def reads(home: Path, name: str = "bench", repeats: int = 3) -> dict:
    """Each read as a command (``pipetune status|best|trials --json``: a new process, so
    Python's start and pipetune's imports count), the imports alone (``pipetune --help``),
    and the read itself in a process that has imported pipetune (first call, and again)."""
    env = {**os.environ, "PIPETUNE_HOME": str(home / ".pipetune")}
    out: dict[str, Any] = {}
    for command in (["status", name], ["best", name], ["trials", name, "--json"], ["--help"]):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([*PIPETUNE, *command], env=env, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        label = "start-up only (--help)" if command == ["--help"] else " ".join(command[:1] + command[2:])
        out[label] = {"seconds": statistics.median(times), "target": 0.5}
    runs = [json.loads(subprocess.run([sys.executable, "-c", READ_IN_PROCESS, name], env=env,
                                      check=True, capture_output=True, text=True).stdout)
            for _ in range(repeats)]
    out["in_process"] = {what: {k: statistics.median(r[what][k] for r in runs)
                                for k in ("first_s", "again_s")} for what in runs[0]}
    return out


def running_reads(big: int, repeats: int = 3) -> dict:
    """The commands of :func:`reads` on a job still running: ``big`` in-process trials done
    and one more that waits (launched detached; stopped afterwards). A running job's answers
    are not kept (each heartbeat changes the journal), so each command opens the study."""
    home = Path(tempfile.mkdtemp(prefix="pipetune-running-"))
    spec = _write_spec(home, {**spec_dict(big + 1, {"callable": "benchmarks.entry_points:last_waits_objective"}),
                              "strategy": "random"})
    env = {**_env(home), "BENCH_LAST": str(big)}
    subprocess.run([*PIPETUNE, "launch", str(spec), "--name", "bench"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        while True:
            st = json.loads(subprocess.run([*PIPETUNE, "status", "bench", "--json"], env=env, check=True,
                                           capture_output=True, text=True).stdout)
            if st["trials"]["complete"] >= big:
                break
            if st["state"] not in ("pending", "running"):
                raise RuntimeError(f"the running-reads job ended early: {st['state']}")
            time.sleep(1)
        out: dict[str, Any] = {"trials_complete": st["trials"]["complete"], "state": st["state"]}
        for command in (["status", "bench"], ["best", "bench"], ["trials", "bench", "--json"]):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                subprocess.run([*PIPETUNE, *command], env=env, check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - t0)
            out[" ".join(command[:1] + command[2:])] = {"seconds": statistics.median(times), "target": 0.5}
    finally:
        subprocess.run([*PIPETUNE, "stop", "bench"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return out


POLLER = """
import sys, time
from pipetune.backends.local import LocalBackend
be, every = LocalBackend(), float(sys.argv[2])
while not be.status(sys.argv[1]).state.terminal:
    time.sleep(every)
"""


def polling(n: int, repeats: int, quiet_every: float = 10.0) -> dict:
    """A job's own run time (``elapsed_seconds``, as the job records it) while it is polled
    every second, against a job looked at only every ``quiet_every`` s. Two pollers: a
    long-lived process reading ``LocalBackend.status`` (what an Airflow sensor's poke in
    its worker, the deferrable trigger, and a KFP wait step do), and a new ``pipetune
    status --json`` process every second (a shell loop: informational)."""
    def job(tmp: Path, every: float, fresh_processes: bool) -> float:
        spec = _write_spec(tmp, spec_dict(n, {"command": NOOP}))
        env = _env(tmp)
        subprocess.run([*PIPETUNE, "launch", str(spec), "--name", "bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        if fresh_processes:
            while True:
                time.sleep(every)
                st = json.loads(subprocess.run([*PIPETUNE, "status", "bench", "--json"], env=env,
                                               capture_output=True, text=True, check=True).stdout)
                if st["state"] in ("completed", "failed", "stopped"):
                    break
        else:
            subprocess.run([sys.executable, "-c", POLLER, "bench", str(every)], env=env, check=True)
        st = json.loads(subprocess.run([*PIPETUNE, "status", "bench", "--json"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
        return float(st["elapsed_seconds"])

    quiet, polled, shell = [], [], []
    for _ in range(repeats):
        for runs, every, fresh in ((quiet, quiet_every, False), (polled, 1.0, False),
                                   (shell, 1.0, True)):
            with tempfile.TemporaryDirectory() as d:
                runs.append(job(Path(d), every, fresh))
    q, p, f = statistics.median(quiet), statistics.median(polled), statistics.median(shell)
    return {"trials": n, "quiet_s": q, "sensor_every_1s_s": p, "added": p / q - 1,
            "target": 0.05, "cli_process_every_1s_s": f, "cli_process_added": f / q - 1}


def memory(n: int) -> dict:
    """Peak RSS of ``pipetune tune`` over ``n`` no-op subprocess trials (its own, from wait4)."""
    with tempfile.TemporaryDirectory() as d:
        spec = _write_spec(Path(d), spec_dict(n, {"command": NOOP}))
        t0 = time.perf_counter()
        proc = subprocess.Popen([*PIPETUNE, "tune", str(spec), "--name", "bench", "--no-progress"],
                                env=_env(Path(d)), stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.returncode == 0, proc.returncode
    return {"trials": n, "peak_rss_mb": usage.ru_maxrss / 1024, "seconds": time.perf_counter() - t0,
            "target_mb": 150}


PARTS = ("paths", "load", "flat", "reads", "memory", "floors")


def compile_bytecode() -> bool:
    """Compile pipetune's modules as a wheel install does. An editable install under
    PYTHONDONTWRITEBYTECODE (set on these machines) compiles every module from source at each
    start-up: about 0.1 s that no user's installed package pays."""
    import compileall

    import pipetune

    return bool(compileall.compile_dir(str(Path(pipetune.__file__).parent), quiet=1))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--trials", default="200,2000", help="sizes of the paths part")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", type=int, default=10_000, help="trials of the flat/reads/memory job")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    sizes = [20] if args.quick else [int(s) for s in args.trials.split(",")]
    repeats = 1 if args.quick else args.repeats
    big = 300 if args.quick else args.big
    mid = 100 if args.quick else 2000
    only = set(args.only.split(","))
    results: dict[str, Any] = {"command": "python -m benchmarks.entry_points " + " ".join(argv or sys.argv[1:]),
                               "load_before": os.getloadavg(), "bytecode": compile_bytecode()}
    if "paths" in only:
        results["paths"] = paths(sizes, repeats)
    if "load" in only:
        results["under_load"] = under_load(sizes[0], repeats)
    if "flat" in only or "reads" in only:
        results["flat"] = flat(big, mid, repeats)
        home = Path(results["flat"]["home"])
        if "reads" in only:
            results["reads"] = reads(home)
            results["running_reads"] = running_reads(big, repeats=1 if args.quick else 3)
            results["polling"] = polling(sizes[-1], repeats, 2.0 if args.quick else 10.0)
    if "memory" in only:
        results["memory"] = memory(big)
    if "floors" in only:
        from benchmarks import floors

        results["floors"] = {"durability": floors.durability(mid, repeats),
                             "start": floors.start(sizes[0], repeats)}
    results["load_after"] = os.getloadavg()
    report.emit_json(results, args.out)
    return results


if __name__ == "__main__":
    main()
