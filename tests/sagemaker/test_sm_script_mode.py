"""SageMaker as a SageMaker user expects: a local source_dir packed and uploaded like the
SDK does (moto's server), the runtime limit as its own field, trial.channels and trial.env
translated or refused, and warm-pool time in the cost."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import tarfile

import boto3
import pytest
from botocore.stub import Stubber

from pipetune.backends.sagemaker.backend import SageMakerBackend
from pipetune.backends.sagemaker.checks import validated_options
from pipetune.backends.sagemaker.cost import training_job_cost
from pipetune.errors import SpecError
from pipetune.spec import load_spec
from sm_fixtures import MINIMAL, T0


def _spec(**sagemaker):
    body = copy.deepcopy(MINIMAL)
    body["sagemaker"].update(sagemaker)
    return body


@pytest.fixture
def code(tmp_path):
    folder = tmp_path / "project"
    (folder / "lib").mkdir(parents=True)
    (folder / "train.py").write_text("from lib import helper\nprint('validation-auc:0.9')\n")
    (folder / "lib" / "helper.py").write_text("X = 1\n")
    (folder / "requirements.txt").write_text("scikit-learn\n")
    (folder / "lib" / "__pycache__").mkdir()
    (folder / "lib" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    return folder


@pytest.fixture
def aws(moto_server):
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="ml-bucket")
    return SageMakerBackend(session=session, endpoint_url=moto_server), s3, \
        session.client("sagemaker", endpoint_url=moto_server)


def _objects(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket="ml-bucket").get("Contents", [])]


def test_local_source_dir_is_packed_and_uploaded_like_the_sdk(aws, code):
    backend, s3, sm = aws
    body = _spec(entry_point="train.py", source_dir="project")
    body["trial"]["workdir"] = str(code.parent)  # a relative source_dir follows trial.workdir
    ref = backend.launch(load_spec(body), "script-mode")
    stored = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=ref.id)
    static = stored["TrainingJobDefinition"]["StaticHyperParameters"]
    assert json.loads(static["sagemaker_program"]) == "train.py"
    uri = json.loads(static["sagemaker_submit_directory"])
    assert uri.startswith("s3://ml-bucket/tuning/out/pipetune-source/")
    assert uri.endswith("/sourcedir.tar.gz")
    key = uri.removeprefix("s3://ml-bucket/")
    assert _objects(s3) == [key]
    archive = s3.get_object(Bucket="ml-bucket", Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        assert tar.extractfile("train.py").read() == (code / "train.py").read_bytes()
    assert names == ["lib/helper.py", "requirements.txt", "train.py"]  # at the root, as the SDK
    # a retried step attaches: nothing uploaded again, same job
    again = backend.launch(load_spec(body), "script-mode")
    assert again.id == ref.id and _objects(s3) == [key]


def test_a_changed_script_gets_its_own_archive(aws, code):
    backend, s3, _ = aws
    body = _spec(entry_point="train.py", source_dir=str(code))
    first = backend.request(load_spec(body), "a")
    (code / "train.py").write_text("print('validation-auc:0.95')\n")
    second = backend.request(load_spec(body), "a")
    uri = [r["TrainingJobDefinition"]["StaticHyperParameters"]["sagemaker_submit_directory"]
           for r in (first, second)]
    assert uri[0] != uri[1]  # a running job's code is never overwritten
    assert _objects(s3) == []  # a dry run uploads nothing


@pytest.mark.parametrize("change, field, words", [
    (dict(entry_point="train.py", source_dir="missing"), "sagemaker.source_dir", "not a folder"),
    (dict(entry_point="main.py", source_dir="project"), "sagemaker.source_dir", "no entry point"),
])
def test_bad_source_dir_is_refused_before_any_call(aws, code, change, field, words):
    backend, s3, sm = aws
    body = _spec(**change)
    body["trial"]["workdir"] = str(code.parent)
    with pytest.raises(SpecError) as err:
        backend.launch(load_spec(body), "bad-source")
    assert [f for f, _ in err.value.problems] == [field] and words in str(err.value)
    assert _objects(s3) == []
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_runtime_limit_is_its_own_field():
    body = _spec()
    body["budget"]["trial_timeout"] = 600
    with pytest.raises(SpecError) as err:
        validated_options(load_spec(body))
    assert [f for f, _ in err.value.problems] == ["budget.trial_timeout"]
    assert "sagemaker.max_runtime_seconds" in str(err.value)
    body["sagemaker"]["max_runtime_seconds"] = 5400
    req = SageMakerBackend(region="us-east-1").request(load_spec(body), "rt")
    assert req["TrainingJobDefinition"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 5400}
    del body["budget"]["trial_timeout"], body["sagemaker"]["max_runtime_seconds"]
    req = SageMakerBackend(region="us-east-1").request(load_spec(body), "rt")
    assert req["TrainingJobDefinition"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}


def test_channels_and_env_reach_the_training_definition():
    body = _spec(channels={"validation": "s3://ml-bucket/val/"}, environment={"B": "sm"})
    body["trial"]["channels"] = {"train": "s3://ml-bucket/train/", "validation": "data/val"}
    body["trial"]["env"] = {"A": "1", "B": "trial"}
    definition = SageMakerBackend(region="us-east-1").request(load_spec(body), "ch")[
        "TrainingJobDefinition"]
    assert {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in definition["InputDataConfig"]} == {
        "train": "s3://ml-bucket/train/", "validation": "s3://ml-bucket/val/"}
    assert definition["Environment"] == {"A": "1", "B": "sm"}


@pytest.mark.parametrize("trial, field, words", [
    ({"channels": {"train": "data/train"}}, "trial.channels.train", "s3:// URI"),
    ({"env": {"1BAD": "x"}}, "trial.env.1BAD", "names hold letters"),
    ({"env": {f"V{i}": "x" for i in range(49)}}, "trial.env", "at most 48"),
])
def test_what_sagemaker_cannot_take_is_refused_naming_the_field(trial, field, words):
    body = _spec()
    body["trial"].update(trial)
    with pytest.raises(SpecError) as err:
        validated_options(load_spec(body))
    assert [f for f, _ in err.value.problems] == [field] and words in str(err.value)


def test_cost_includes_warm_pool_time():
    client = boto3.client("sagemaker", region_name="us-east-1")
    answer = {
        "TrainingJobName": "t1", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:"
        "training-job/t1", "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m.tar.gz"},
        "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2,
                           "VolumeSizeInGB": 30, "KeepAlivePeriodInSeconds": 600},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600}, "CreationTime": T0,
        "TrainingStartTime": T0, "TrainingEndTime": T0 + dt.timedelta(minutes=30),
        "BillableTimeInSeconds": 1800,
        "WarmPoolStatus": {"Status": "Terminated", "ResourceRetainedBillableTimeInSeconds": 600},
    }
    with Stubber(client) as stub:  # the answer's shape is the service's
        stub.add_response("describe_training_job", answer, {"TrainingJobName": "t1"})
        desc = client.describe_training_job(TrainingJobName="t1")
    # (1800 s training + 600 s warm pool) x 2 instances x $0.115/h
    assert training_job_cost(desc) == pytest.approx(2400 * 2 * 0.115 / 3600, abs=1e-6)
    retained = copy.deepcopy(desc)
    retained["WarmPoolStatus"] = {"Status": "Available"}  # still kept: time since the end
    later = T0 + dt.timedelta(minutes=35)
    assert training_job_cost(retained, now=later) == pytest.approx(2100 * 2 * 0.115 / 3600, abs=1e-6)
    del retained["ResourceConfig"]["KeepAlivePeriodInSeconds"], retained["WarmPoolStatus"]
    assert training_job_cost(retained, now=later) == pytest.approx(1800 * 2 * 0.115 / 3600, abs=1e-6)
