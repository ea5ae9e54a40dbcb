import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "scaleout"))  # shared fixtures and trials

from scaleout_fixtures import home, pg_server, pg_url  # noqa: E402,F401  (pytest fixtures)
