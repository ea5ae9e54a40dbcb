"""Every component and pipeline compiles; the checked-in pipeline YAML matches its source;
component interfaces are pinned so that a change to them is deliberate."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kfp_helpers import PIPELINES, REPO
from kfp import compiler

import pipetune.components as comps

PIPELINE_MODULES = {
    "continuous_training": "continuous_training",
    "parallel_tuning": "parallel_tuning",
    "gcpc_interop": "gcpc_interop",
}
INTERFACES = Path(__file__).with_name("component_interfaces.json")


def interface(component) -> dict:
    """Input and output names with their KFP types, from the compiled component."""
    spec = component.component_spec
    def types(items):
        return {name: (getattr(s, "type", None) or "") + ("?" if getattr(s, "optional", False)
                                                          else "")
                for name, s in sorted((items or {}).items())}
    return {"inputs": types(spec.inputs), "outputs": types(spec.outputs)}


def all_components() -> dict:
    return {name: getattr(comps, name) for name in comps.__all__}


@pytest.mark.parametrize("name", sorted(comps.__all__))
def test_component_compiles_with_vertex_image_and_docstring(name, tmp_path):
    component = getattr(comps, name)
    out = tmp_path / f"{name}.yaml"
    compiler.Compiler().compile(component, str(out))
    body = yaml.safe_load(out.read_text())
    executor = next(iter(body["deploymentSpec"]["executors"].values()))["container"]
    assert executor["image"] == "python:3.11-slim"
    assert any("pipetune" in part for part in executor["command"]), "installs pipetune"
    # the docstring documents every input and output
    doc = component.python_func.__doc__
    iface = interface(component)
    for field in list(iface["inputs"]) + [o for o in iface["outputs"] if o != "Output"]:
        assert f"{field}:" in doc, f"{name}: {field} is not documented"


def test_component_interfaces_are_pinned():
    current = {name: interface(c) for name, c in sorted(all_components().items())}
    pinned = json.loads(INTERFACES.read_text())
    assert current == pinned, (
        "a component interface changed; if that is deliberate, regenerate with\n"
        "  python tests/kfp/test_compile.py --pin")


@pytest.mark.parametrize("module", sorted(PIPELINE_MODULES))
def test_checked_in_pipeline_yaml_matches_source(module, tmp_path):
    """Recompile in a clean interpreter (default PIPETUNE_PIP_SPEC) and compare."""
    env = {k: v for k, v in os.environ.items() if k != "PIPETUNE_PIP_SPEC"}
    out = tmp_path / f"{module}.yaml"
    code = (f"import sys; sys.path.insert(0, {str(PIPELINES)!r}); "
            f"from kfp import compiler; import {module} as m; "
            f"compiler.Compiler().compile(m.{PIPELINE_MODULES[module]}, {str(out)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
    checked_in = (PIPELINES / f"{module}.yaml").read_text()
    assert out.read_text() == checked_in, (
        f"pipelines/kfp/{module}.yaml is stale: run python pipelines/kfp/{module}.py")


def test_pip_spec_is_configurable(tmp_path):
    env = {**os.environ, "PIPETUNE_PIP_SPEC": "git+https://example.com/org/pipetune@v9"}
    code = ("from pipetune.components import launch_tuning as c; "
            "print(c.component_spec.implementation.container.command)")
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env,
                         capture_output=True, text=True).stdout
    assert "git+https://example.com/org/pipetune@v9" in out
    assert "pipetune==" not in out


if __name__ == "__main__" and "--pin" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parent))
    INTERFACES.write_text(json.dumps({n: interface(c) for n, c in
                                      sorted(all_components().items())}, indent=1) + "\n")
    print(f"wrote {INTERFACES}")
