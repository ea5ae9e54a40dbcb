"""Every component and pipeline compiles to YAML that loads back (as YAML, as a KFP component,
as a Vertex PipelineJob); the checked-in pipeline YAML matches its source; every pipetune step
runs on the one pipetune image; component interfaces are pinned so that a change to them is
deliberate."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kfp.components import load_component_from_file
from kfp_helpers import PIPELINES, REPO

import pipetune
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
    return {name: getattr(comps, name) for name in comps.COMPONENTS}


@pytest.mark.parametrize("name", sorted(comps.COMPONENTS))
def test_component_compiles_on_the_pipetune_image_and_loads_back(name, tmp_path):
    component = getattr(comps, name)
    out = tmp_path / f"{name}.yaml"
    comps.compile_pipeline(component, out)
    body = yaml.safe_load(out.read_text())
    executor = next(iter(body["deploymentSpec"]["executors"].values()))["container"]
    assert executor["image"] == comps.IMAGE == f"ghcr.io/pipetune/pipetune:{pipetune.__version__}"
    script = " ".join(executor["command"])
    assert "pip install" not in script, "the image holds pipetune and kfp: nothing to install"
    loaded = load_component_from_file(str(out))
    assert interface(loaded) == interface(component)
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


def _compile_in_clean_interpreter(module: str, out: Path, **env_extra: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PIPETUNE_IMAGE"} | env_extra
    code = (f"import sys; sys.path.insert(0, {str(PIPELINES)!r}); "
            f"from pipetune.components import compile_pipeline; import {module} as m; "
            f"compile_pipeline(m.{PIPELINE_MODULES[module]}, {str(out)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)


@pytest.mark.parametrize("module", sorted(PIPELINE_MODULES))
def test_checked_in_pipeline_yaml_matches_source_and_loads_back(module, tmp_path):
    """Recompile in a clean interpreter (default image) and compare; then load the checked-in
    file the three ways a user does: as YAML, as a KFP component, as a Vertex PipelineJob."""
    out = tmp_path / f"{module}.yaml"
    _compile_in_clean_interpreter(module, out)
    path = PIPELINES / f"{module}.yaml"
    checked_in = path.read_text()
    assert out.read_text() == checked_in, (
        f"pipelines/kfp/{module}.yaml is stale: run python pipelines/kfp/{module}.py")

    body = yaml.safe_load(checked_in)
    assert body["pipelineInfo"]["name"]
    assert load_component_from_file(str(path)).name == body["pipelineInfo"]["name"]
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    job = aiplatform.PipelineJob(display_name=module, template_path=str(path),
                                 pipeline_root="gs://bucket/root", project="p",
                                 location="us-central1", credentials=AnonymousCredentials())
    assert job._gca_resource.pipeline_spec["pipelineInfo"]["name"] == body["pipelineInfo"]["name"]


@pytest.mark.parametrize("module", sorted(PIPELINE_MODULES))
def test_compiled_pipelines_run_pipetune_steps_on_the_pipetune_image(module):
    body = yaml.safe_load((PIPELINES / f"{module}.yaml").read_text())
    executors = body["deploymentSpec"]["executors"]
    pipetune_steps = {name: ex["container"] for name, ex in executors.items()
                      if "container" in ex and "from pipetune" in " ".join(ex["container"]["command"])}
    assert pipetune_steps, "the pipeline has pipetune steps"
    for name, container in pipetune_steps.items():
        assert container["image"] == f"ghcr.io/pipetune/pipetune:{pipetune.__version__}"


def test_a_multi_line_default_stays_inside_the_header_comment(tmp_path):
    from kfp import dsl

    @dsl.pipeline(name="multi-line-default")
    def pipe(spec: str = "parameters:\n  - {name: x}\nobjectives: [a]\n'quoted': x\n"):
        comps.is_improvement(candidate=1.0, baseline=0.0, goal="maximize")

    out = tmp_path / "pipe.yaml"
    comps.compile_pipeline(pipe, out)
    text = out.read_text()
    header = text[:text.index("\ncomponents:")]
    assert all(line.startswith("#") for line in header.splitlines()), header
    assert yaml.safe_load(text)["root"]["inputDefinitions"]["parameters"]["spec"]["defaultValue"] \
        == "parameters:\n  - {name: x}\nobjectives: [a]\n'quoted': x\n"
    # the same pipeline through kfp's compiler alone is what users hit without this helper
    from kfp import compiler

    raw = tmp_path / "raw.yaml"
    compiler.Compiler().compile(pipe, str(raw))
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(raw.read_text())


def test_the_image_is_one_setting(tmp_path):
    image = "us-docker.pkg.dev/acme/ml/pipetune:0.1.0"
    out = tmp_path / "continuous_training.yaml"
    _compile_in_clean_interpreter("continuous_training", out, PIPETUNE_IMAGE=image)
    executors = yaml.safe_load(out.read_text())["deploymentSpec"]["executors"]
    images = {ex["container"]["image"] for ex in executors.values() if "container" in ex}
    assert image in images and not any("ghcr.io/pipetune" in i for i in images), images


def _dockerfile_pip_install() -> list[str]:
    """The arguments of the Dockerfile's ``pip install`` of pipetune."""
    text = (REPO / "Dockerfile").read_text()
    for line in text.splitlines():
        if line.startswith("RUN pip install"):
            command = line[len("RUN "):].split("&&")[0]
            return shlex.split(command)[2:]
    raise AssertionError("the Dockerfile installs pipetune with one `RUN pip install` line")


def test_the_image_is_versioned_with_the_package():
    """``make image`` tags the image with the package's version, the tag the components
    default to: what ``make -n image`` would run, not the Makefile's text."""
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'version = "{pipetune.__version__}"' in pyproject
    dry = subprocess.run(["make", "-n", "image", "IMAGE=registry.example/team/pipetune"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    from pipetune.components._image import DEFAULT_IMAGE

    assert f"docker build -t registry.example/team/pipetune:{pipetune.__version__} ." in dry
    assert DEFAULT_IMAGE.endswith(f":{pipetune.__version__}")


def test_the_dockerfile_install_resolves(tmp_path):
    """Docker is not available here: resolve the image's exact pip install instead."""
    args = _dockerfile_pip_install()
    assert any(a.startswith(".[") and "aws" in a and "gcp" in a for a in args), args
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--report", str(report), *args],
                   check=True, cwd=REPO, timeout=600)
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"pipetune", "boto3", "google-cloud-aiplatform", "kfp", "optuna"} <= names, sorted(names)


if __name__ == "__main__" and "--pin" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parent))
    INTERFACES.write_text(json.dumps({n: interface(c) for n, c in
                                      sorted(all_components().items())}, indent=1) + "\n")
    print(f"wrote {INTERFACES}")
