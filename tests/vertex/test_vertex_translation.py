"""What a spec says reaches the Vertex AI job (the real SDK against the fake Vertex):
trial.channels and trial.env become the container's env, measurement the study's
measurement selection; what Vertex cannot take is refused before any call."""

from __future__ import annotations

import pytest
from google.cloud.aiplatform_v1 import types as t

from pipetune.errors import SpecError
from pipetune.spec import load_spec


def make_spec(**changes):
    body = {
        "parameters": [{"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1}],
        "objectives": [{"metric": "auc", "goal": "maximize"}],
        "trial": {"command": ["python", "train.py"], "contract": "vertex",
                  "env": {"LOG_LEVEL": "debug", "SHARED": "trial"},
                  "channels": {"train": "gs://data/train/", "side-info": "gs://data/side/"}},
        "vertex": {"container": {"image_uri": "us-docker.pkg.dev/p/train:1",
                                 "env": {"SHARED": "container"}}},
    }
    body.update(changes)
    return load_spec(body)


def test_channels_and_env_reach_the_container(backend, fake_vertex):
    backend.launch(make_spec(measurement="final"), "translated")
    (req,) = fake_vertex.calls("CreateHyperparameterTuningJob")
    job = req.hyperparameter_tuning_job
    container = job.trial_job_spec.worker_pool_specs[0].container_spec
    env = {e.name: e.value for e in container.env}
    assert env == {"LOG_LEVEL": "debug", "SHARED": "container",
                   "PIPETUNE_CHANNEL_TRAIN": "gs://data/train/",
                   "AIP_TRAINING_DATA_URI": "gs://data/train/",
                   "PIPETUNE_CHANNEL_SIDE_INFO": "gs://data/side/"}
    assert job.study_spec.measurement_selection_type == \
        t.StudySpec.MeasurementSelectionType.LAST_MEASUREMENT


def test_a_channel_vertex_cannot_read_is_refused_before_any_call(backend, fake_vertex):
    spec = make_spec(trial={"command": ["python", "train.py"], "contract": "vertex",
                            "channels": {"train": "/data/train"}})
    with pytest.raises(SpecError) as err:
        backend.launch(spec, "bad-channel")
    assert [f for f, _ in err.value.problems] == ["trial.channels.train"]
    assert "gs:// URI" in str(err.value)
    assert fake_vertex.calls("CreateHyperparameterTuningJob") == []


def test_the_old_vertex_field_is_named_when_passed_to_the_options_directly():
    from pipetune.backends.vertex.options import parse_options

    with pytest.raises(SpecError, match="vertex.measurement_selection: moved out of vertex"):
        parse_options({"project": "my-proj", "location": "us-central1",
                       "measurement_selection": "best"})
