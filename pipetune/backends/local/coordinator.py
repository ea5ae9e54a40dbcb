"""Entry point of a detached coordinator: ``python -m pipetune.backends.local.coordinator NAME``.

Started by ``LocalBackend.launch(detach=True)`` in its own session, so it outlives the
process (or Airflow task, or KFP step) that launched it.
"""

from __future__ import annotations

import signal
import sys

from pipetune.backends.local.engine import Engine
from pipetune.backends.local.jobstore import JobDir


def main(argv: list[str]) -> int:
    """Run the local job named ``argv[0]`` to its end in this process; always returns 0.

    SIGTERM asks the engine to stop (running trials are stopped, no new one starts) rather
    than killing it, so the job ends recorded as stopped. The job's final state is printed.

    Args:
        argv: The command line after the module name: the job's name.

    Returns:
        0, whatever the job's final state (``status`` reads it from the job's files).
    """
    job = JobDir(argv[0])
    spec = job.spec()
    if spec.trial.workdir:
        sys.path.insert(0, spec.trial.workdir)
    engine = Engine(job, spec)
    signal.signal(signal.SIGTERM, lambda *_: engine.request_stop())
    state = engine.run()
    print(f"job {job.name} ended: {state.value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
