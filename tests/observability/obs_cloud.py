"""The cloud stand-ins for the observability tests: the project's fake Vertex AI (shared with
tests/vertex, same TLS certificate) and a moto server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

VERTEX_TESTS = Path(__file__).parents[1] / "vertex"


def vertex_conftest(pluginmanager):
    """tests/vertex/conftest.py as loaded by pytest (or loaded here when only this folder
    runs): its module-level TLS set-up must happen once per process."""
    target = str(VERTEX_TESTS / "conftest.py")
    for plugin in pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) == target:
            return plugin
    name = "pipetune_obs_vertex_conftest"
    if name in sys.modules:
        return sys.modules[name]
    if str(VERTEX_TESTS) not in sys.path:
        sys.path.insert(0, str(VERTEX_TESTS))
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
