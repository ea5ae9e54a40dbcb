"""SageMaker trial health from CloudWatch's /aws/sagemaker/TrainingJobs, against a moto
server on 127.0.0.1 (training jobs created in moto's SageMaker, metrics put in its
CloudWatch)."""

from __future__ import annotations

import datetime as dt

import boto3

from pipetune.observability.cloudwatch import NAMESPACE, trial_health

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerTuning"


def training_job(sm, name, instance_type, count=1):
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE, OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": instance_type, "InstanceCount": count,
                        "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
    return sm.describe_training_job(TrainingJobName=name)


def put(cw, host, metric, values, now):
    cw.put_metric_data(Namespace=NAMESPACE, MetricData=[
        {"MetricName": metric, "Dimensions": [{"Name": "Host", "Value": host}],
         "Timestamp": now - dt.timedelta(minutes=i + 1), "Value": v, "Unit": "Percent"}
        for i, v in enumerate(values)])


def test_low_gpu_utilisation_is_flagged_per_trial(moto_server):
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_server)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    jobs = [training_job(sm, "busy", "ml.g4dn.12xlarge"),      # 4 GPUs, 48 vCPUs
            training_job(sm, "starved", "ml.g4dn.xlarge"),     # 1 GPU, 4 vCPUs
            training_job(sm, "pair", "ml.p3.2xlarge", count=2),
            training_job(sm, "cpu-only", "ml.m5.xlarge")]
    put(cw, "busy/algo-1", "GPUUtilization", [300, 340], now)        # 80% per GPU
    put(cw, "busy/algo-1", "CPUUtilization", [1200, 1200], now)      # 25% per vCPU
    put(cw, "starved/algo-1", "GPUUtilization", [6, 10], now)
    put(cw, "starved/algo-1", "CPUUtilization", [390, 370], now)     # 95%: input-bound
    put(cw, "pair/algo-1", "GPUUtilization", [10], now)
    put(cw, "pair/algo-2", "GPUUtilization", [20], now)
    put(cw, "cpu-only/algo-1", "CPUUtilization", [40, 40], now)     # 10% per vCPU
    put(cw, "busy/algo-1", "GPUUtilization", [0], now - dt.timedelta(hours=2))  # out of window

    health = {h.training_job: h for h in trial_health(cw, jobs, now=now,
                                                      min_cpu_utilization=50)}
    busy, starved, pair, cpu_only = (health[n] for n in ("busy", "starved", "pair", "cpu-only"))
    assert (busy.gpu_utilization, busy.cpu_utilization, busy.warning) == (80.0, 25.0, (
        "CPU utilisation 25% over the last 10 min is below 50%"))
    assert starved.gpu_utilization == 8.0 and starved.cpu_utilization == 95.0
    assert starved.warning.startswith("GPU utilisation 8% over the last 10 min is below 20%")
    assert pair.hosts == 2 and pair.gpu_utilization == 15.0 and "GPU utilisation 15%" in pair.warning
    assert cpu_only.gpu_utilization is None and cpu_only.cpu_utilization == 10.0
    assert "GPU" not in cpu_only.warning and "CPU utilisation 10%" in cpu_only.warning
    # a stricter threshold flags the busy GPU too; none turns GPU warnings off
    strict = trial_health(cw, jobs[:1], now=now, min_gpu_utilization=90)
    assert "GPU utilisation 80%" in strict[0].warning
    assert trial_health(cw, jobs[1:2], now=now, min_gpu_utilization=None)[0].warning is None


def test_no_data_points_means_no_verdict(moto_server):
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=moto_server)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_server)
    (h,) = trial_health(cw, [training_job(sm, "quiet", "ml.g5.xlarge")])
    assert (h.cpu_utilization, h.gpu_utilization, h.warning) == (None, None, None)
