"""Vertex AI interop against the fake Vertex AI of tests/vertex.

gcpc: a HyperparameterTuningJob made the way gcpc's HyperparameterTuningJobRunOp makes it
(its own serialize_parameters and serialize_metrics), then pipetune's vertex_tuning_results
component under kfp.local reads it from the `gcp_resources` JSON with typed parameters.
Vizier: the ParallelFor fan-out pipeline with workers serving one Vizier study."""

import json
import time

import pytest
from google.auth.credentials import AnonymousCredentials

from fake_vertex import LOCATION, PROJECT, score, values_of
from gcpc_interop import STUDY_METRICS, STUDY_PARAMETERS
from pipetune.backends.vertex import VertexBackend
from pipetune.components import vertex_tuning_results
from pipetune.gcpc import parse_gcp_resources

pytestmark = pytest.mark.filterwarnings("ignore:.*no effect in the current local runner")


def run_gcpc_style_job(fake, trials=5):
    from google.cloud.aiplatform_v1 import types as t

    backend = VertexBackend(project=PROJECT, location=LOCATION,
                            credentials=AnonymousCredentials(), api_endpoint=fake.endpoint)
    client = backend.jobs(LOCATION)
    job = client.create_hyperparameter_tuning_job(
        parent=f"projects/{PROJECT}/locations/{LOCATION}",
        hyperparameter_tuning_job=t.HyperparameterTuningJob(
            display_name="gcpc-made", max_trial_count=trials, parallel_trial_count=2,
            study_spec={"metrics": STUDY_METRICS, "parameters": STUDY_PARAMETERS},
            trial_job_spec={"worker_pool_specs": [{
                "machine_spec": {"machine_type": "n1-standard-4"}, "replica_count": 1,
                "container_spec": {"image_uri": "us-docker.pkg.dev/p/r/train:1"}}]}))
    for _ in range(50):
        job = client.get_hyperparameter_tuning_job(name=job.name)
        if job.state == t.JobState.JOB_STATE_SUCCEEDED:
            return job
        time.sleep(0.01)
    raise AssertionError(f"fake job never finished: {job.state}")


def test_vertex_tuning_results_from_gcp_resources(fake_vertex, adc_env, kfp_local, monkeypatch):
    from google.cloud.aiplatform_v1 import types as t

    job = run_gcpc_style_job(fake_vertex)
    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"):
        monkeypatch.setenv(key, adc_env[key])
    gcp_resources = json.dumps({"resources": [{
        "resourceType": "HyperparameterTuningJob",
        "resourceUri": f"https://{LOCATION}-aiplatform.googleapis.com/v1/{job.name}"}]})

    task = vertex_tuning_results(gcp_resources=gcp_resources,
                                 backend_options={"api_endpoint": fake_vertex.endpoint})

    done = [tr for tr in job.trials
            if tr.state == t.Trial.State.SUCCEEDED and not tr.infeasible_reason]
    best = max(done, key=lambda tr: score(job.study_spec, values_of(tr))["accuracy"])
    params = json.loads(task.outputs["params_json"])
    assert type(params["max_depth"]) is int and type(params["batch_size"]) is int
    assert type(params["learning_rate"]) is float
    expected = values_of(best)
    assert params == {"learning_rate": expected["learning_rate"],
                      "max_depth": int(expected["max_depth"]),
                      "batch_size": int(expected["batch_size"])}
    assert task.outputs["trial"] == best.id
    assert task.outputs["value"] == pytest.approx(
        score(job.study_spec, values_of(best))["accuracy"])
    lines = [json.loads(x) for x in open(task.outputs["trials"].path)]
    assert len(lines) == len(job.trials) == 5
    assert [x["state"] for x in lines].count("infeasible") == len(job.trials) - len(done)
    assert json.loads(task.outputs["job"])["id"] == job.name
    # the subprocess authenticated with the ADC key file, not anonymously
    assert any(adc_env.verify(h) for h in fake_vertex.authorization)


def test_gcp_resources_errors_name_the_input():
    from pipetune.errors import UsageError

    with pytest.raises(UsageError, match="gcp_resources: no HyperparameterTuningJob"):
        parse_gcp_resources('{"resources": [{"resourceType": "CustomJob", "resourceUri": "x"}]}')
    assert parse_gcp_resources(
        "projects/p/locations/europe-west4/hyperparameterTuningJobs/7")[2] == "europe-west4"


def test_parallel_for_vizier_workers_complete_one_study(fake_vertex, adc_env, kfp_local,
                                                        monkeypatch, home):
    """The same fan-out pipeline on the Vertex backend: workers serve one Vizier study."""
    import yaml
    from kfp_helpers import PYTHON, REPO
    from google.cloud.aiplatform_v1 import types as t

    from parallel_tuning import parallel_tuning

    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"):
        monkeypatch.setenv(key, adc_env[key])
    spec = {
        "parameters": [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0},
                       {"name": "depth", "type": "integer", "min": 1, "max": 3}],
        "objectives": [{"metric": "loss", "goal": "minimize"}],
        "metrics": [{"name": "loss", "regex": "loss=([0-9.eE+-]+)"}],
        "trial": {"command": [PYTHON, str(REPO / "tests" / "kfp" / "quadratic_trial.py")],
                  "contract": "vertex"},
        "budget": {"max_trials": 5, "max_parallel": 1},
        "vertex": {"mode": "vizier"},
    }
    options = {"project": PROJECT, "location": LOCATION, "api_endpoint": fake_vertex.endpoint}
    task = parallel_tuning(spec=yaml.safe_dump(spec), job_name="vizier-fanout",
                           pipetune_home=str(home), workers=[0, 1], backend="vertex",
                           backend_options=options)
    assert len(fake_vertex.calls("CreateStudy")) == 1
    (study,) = fake_vertex.studies
    trials = fake_vertex.trials[study]
    assert len(trials) == 5 and len({tr.id for tr in trials}) == 5
    assert all(tr.state == t.Trial.State.SUCCEEDED for tr in trials)
    losses = {tr.id: tr.final_measurement.metrics[0].value for tr in trials}
    best = min(trials, key=lambda tr: losses[tr.id])
    params = json.loads(task.output)
    assert params == {"x": values_of(best)["x"], "depth": int(values_of(best)["depth"])}
    assert type(params["depth"]) is int
