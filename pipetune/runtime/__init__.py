"""The step runtime every adapter is a thin translation over.

- :mod:`.step`: launch or attach, run here, wait, stop, resume, best, and the one
  job-handle parser;
- :mod:`.waiting`: one poll's work (resume an interrupted job, apply the guards) and the
  blocking wait built on it;
- :mod:`.guards`: the one guard check every poller applies.
"""

from pipetune.runtime.guards import check_guards
from pipetune.runtime.step import (backend_for, best, best_outputs, launch, parse_job, resume, run,
                                   stop, wait)
from pipetune.runtime.waiting import asettle, settle, wait_for

__all__ = ["asettle", "backend_for", "best", "best_outputs", "check_guards", "launch",
           "parse_job", "resume", "run", "settle", "stop", "wait", "wait_for"]
