"""GitHub Actions integration: re-tune on a pull request, comment, retune on a schedule.

The composite action in ``pipelines/github/`` is a thin shell around ``pipetune github
run``; everything it does lives here so it can be tested:

- :mod:`~pipetune.github.env`: the GitHub Actions environment and event payload;
- :mod:`~pipetune.github.commands`: the ``$GITHUB_OUTPUT`` / ``$GITHUB_STEP_SUMMARY`` file
  protocol and workflow commands (annotations);
- :mod:`~pipetune.github.api`: a small REST client (errors explained, Link paging);
- :mod:`~pipetune.github.comments`: one pull-request comment, found by a hidden marker;
- :mod:`~pipetune.github.compare`: improved / unchanged / regressed against a baseline;
- :mod:`~pipetune.github.chart` and :mod:`~pipetune.github.render`: the markdown report;
- :mod:`~pipetune.github.results_file`: the committed tuned-parameters file;
- :mod:`~pipetune.github.baseline`: where the baseline comes from;
- :mod:`~pipetune.github.warm_start`: warm-starting from the last results;
- :mod:`~pipetune.github.pull_request`: a pull request proposing a file update;
- :mod:`~pipetune.github.step`: the action's step, end to end.
"""

from pipetune.github.api import GitHubAPIError, GitHubClient
from pipetune.github.compare import Comparison, Threshold, compare
from pipetune.github.env import GitHubEnv

__all__ = ["Comparison", "GitHubAPIError", "GitHubClient", "GitHubEnv", "Threshold", "compare"]
