"""A fake Vertex AI (JobService + VizierService) for the unchanged SDK, over TLS on loopback.

Realistic where it matters to pipetune: tuning jobs move PENDING -> RUNNING -> SUCCEEDED /
FAILED / CANCELLED over polls, their trials appear over time and some are INFEASIBLE;
Vizier suggests from the study spec (conditional parameters included), hands an active
trial back to the same client id, and answers early stopping from the measurements (median
rule). Every request is recorded for assertions.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import threading
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from google.cloud.aiplatform_v1 import types as t
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, empty_pb2

PS = t.StudySpec.ParameterSpec
PROJECT, LOCATION = "demo-proj", "us-central1"  # where the tests' fake lives


def now():
    return dt.datetime.now(dt.timezone.utc)


# ---- the fake's own "training": a deterministic objective over a parameter point ----------
def score(spec: t.StudySpec, values: dict[str, object]) -> dict[str, float]:
    """Higher is better near 30 % of every numeric range; categoricals: first is best."""
    total, spread = 0.0, 0.0
    for p in _all_params(spec.parameters):
        if p.parameter_id not in values:
            continue
        v = values[p.parameter_id]
        lo, hi = _bounds(p)
        if lo is not None:
            x = (float(v) - lo) / ((hi - lo) or 1.0)
            total -= (x - 0.3) ** 2
            spread += x
        else:
            total -= 0.1 * list(p.categorical_value_spec.values).index(v)
    out = {}
    for i, m in enumerate(spec.metrics):
        out[m.metric_id] = round(1.0 + total if i == 0 else spread, 6)
    return out


def _all_params(params):
    for p in params:
        yield p
        yield from _all_params([c.parameter_spec for c in p.conditional_parameter_specs])


def _bounds(p):
    if "double_value_spec" in p:
        return p.double_value_spec.min_value, p.double_value_spec.max_value
    if "integer_value_spec" in p:
        return p.integer_value_spec.min_value, p.integer_value_spec.max_value
    if "discrete_value_spec" in p:
        return min(p.discrete_value_spec.values), max(p.discrete_value_spec.values)
    return None, None


def sample(spec: t.StudySpec, rng: random.Random) -> list[t.Trial.Parameter]:
    out: list[t.Trial.Parameter] = []

    def visit(params):
        for p in params:
            if "double_value_spec" in p:
                v = rng.uniform(p.double_value_spec.min_value, p.double_value_spec.max_value)
            elif "integer_value_spec" in p:
                v = float(rng.randint(p.integer_value_spec.min_value, p.integer_value_spec.max_value))
            elif "discrete_value_spec" in p:
                v = rng.choice(list(p.discrete_value_spec.values))
            else:
                v = rng.choice(list(p.categorical_value_spec.values))
            out.append(t.Trial.Parameter(parameter_id=p.parameter_id, value=v))
            for c in p.conditional_parameter_specs:
                cond = (list(c.parent_int_values.values) or list(c.parent_discrete_values.values)
                        or list(c.parent_categorical_values.values))
                if any(v == x or (not isinstance(v, str) and float(x) == v) for x in cond):
                    visit([c.parameter_spec])

    visit(spec.parameters)
    return out


def values_of(trial: t.Trial) -> dict[str, object]:
    return {p.parameter_id: p.value for p in trial.parameters}


@dataclass
class JobPlan:
    """How a tuning job of a given display name behaves."""

    fail_after_polls: int | None = None  # RUNNING polls before FAILED
    infeasible_every: int = 4            # every Nth trial is INFEASIBLE


@dataclass
class _Job:
    job: t.HyperparameterTuningJob
    plan: JobPlan
    polls: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))


class FakeVertex:
    def __init__(self, project: str = "demo-proj", location: str = "us-central1"):
        self.parent = f"projects/{project}/locations/{location}"
        self.lock = threading.RLock()
        self.requests: list[tuple[str, object]] = []
        self.authorization: set[str] = set()
        self.jobs: dict[str, _Job] = {}
        self.plans: dict[str, JobPlan] = {}
        self.studies: dict[str, t.Study] = {}
        self.trials: dict[str, list[t.Trial]] = {}
        self.rng = random.Random(11)
        self._ids = 0

    def _next(self) -> str:
        self._ids += 1
        return str(1000 + self._ids)

    def calls(self, method: str) -> list:
        return [r for m, r in self.requests if m == method]

    # ---- JobService ----------------------------------------------------------------------
    def CreateHyperparameterTuningJob(self, req, ctx):
        job = t.HyperparameterTuningJob(req.hyperparameter_tuning_job)
        job.name = f"{req.parent}/hyperparameterTuningJobs/{self._next()}"
        job.state = t.JobState.JOB_STATE_PENDING
        job.create_time = now()
        self.jobs[job.name] = _Job(job, self.plans.get(job.display_name, JobPlan()))
        return job

    def GetHyperparameterTuningJob(self, req, ctx):
        entry = self._job(req.name, ctx)
        self._advance(entry)
        return entry.job

    def ListHyperparameterTuningJobs(self, req, ctx):
        wanted = _parse_filter(req.filter)
        jobs = [e.job for e in self.jobs.values() if e.job.name.startswith(req.parent + "/")
                and all(_field(e.job, k) == v for k, v in wanted.items())]
        return t.ListHyperparameterTuningJobsResponse(hyperparameter_tuning_jobs=jobs)

    def CancelHyperparameterTuningJob(self, req, ctx):
        entry = self._job(req.name, ctx)
        if entry.job.state in (t.JobState.JOB_STATE_PENDING, t.JobState.JOB_STATE_RUNNING):
            entry.job.state = t.JobState.JOB_STATE_CANCELLING
        return empty_pb2.Empty()

    def _job(self, name, ctx) -> _Job:
        if name not in self.jobs:
            ctx.abort(grpc.StatusCode.NOT_FOUND, f"{name} not found")
        return self.jobs[name]

    def _advance(self, e: _Job) -> None:
        job = e.job
        e.polls += 1
        S = t.JobState
        if job.state == S.JOB_STATE_PENDING:
            job.state, job.start_time = S.JOB_STATE_RUNNING, now()
            return
        if job.state == S.JOB_STATE_CANCELLING:
            for tr in job.trials:
                if tr.state == t.Trial.State.ACTIVE:
                    tr.state, tr.infeasible_reason, tr.end_time = (
                        t.Trial.State.INFEASIBLE, "cancelled", now())
            job.state, job.end_time = S.JOB_STATE_CANCELLED, now()
            job.error = {"code": 1, "message": "CANCELED"}
            return
        if job.state != S.JOB_STATE_RUNNING:
            return
        if e.plan.fail_after_polls is not None and e.polls > e.plan.fail_after_polls:
            job.state, job.end_time = S.JOB_STATE_FAILED, now()
            job.error = {"code": 3, "message": "Trial job failed: the replica workerpool0-0 "
                         "exited with a non-zero status of 1."}
            return
        for tr in job.trials:  # active trials finish, with three measurements
            if tr.state == t.Trial.State.ACTIVE:
                self._finish(job, tr, e.plan)
        while len(job.trials) < job.max_trial_count and sum(
                tr.state == t.Trial.State.ACTIVE for tr in job.trials) < job.parallel_trial_count:
            job.trials.append(t.Trial(id=str(len(job.trials) + 1), state=t.Trial.State.ACTIVE,
                                      parameters=sample(job.study_spec, e.rng), start_time=now()))
        if all(tr.state != t.Trial.State.ACTIVE for tr in job.trials):
            job.state, job.end_time = S.JOB_STATE_SUCCEEDED, now()

    def _finish(self, job, tr, plan: JobPlan) -> None:
        tr.end_time = tr.start_time + dt.timedelta(minutes=30)
        if int(tr.id) % plan.infeasible_every == 0:
            tr.state, tr.infeasible_reason = t.Trial.State.INFEASIBLE, "trial job exited with status 1"
            return
        final = score(job.study_spec, values_of(tr))
        first = job.study_spec.metrics[0].metric_id
        for step in (1, 2, 3):
            tr.measurements.append(t.Measurement(step_count=step, metrics=[
                t.Measurement.Metric(metric_id=first, value=final[first] - (3 - step) * 0.1)]))
        tr.final_measurement = t.Measurement(step_count=3, metrics=[
            t.Measurement.Metric(metric_id=k, value=v) for k, v in final.items()])
        tr.state = t.Trial.State.SUCCEEDED

    # ---- VizierService -------------------------------------------------------------------
    def CreateStudy(self, req, ctx):
        if any(s.display_name == req.study.display_name for s in self.studies.values()):
            ctx.abort(grpc.StatusCode.ALREADY_EXISTS, "study exists")
        study = t.Study(req.study)
        study.name = f"{req.parent}/studies/{self._next()}"
        study.state, study.create_time = t.Study.State.ACTIVE, now()
        self.studies[study.name] = study
        self.trials[study.name] = []
        return study

    def LookupStudy(self, req, ctx):
        for s in self.studies.values():
            if s.display_name == req.display_name and s.name.startswith(req.parent + "/"):
                return s
        ctx.abort(grpc.StatusCode.NOT_FOUND, f"no study {req.display_name}")

    def GetStudy(self, req, ctx):
        if req.name not in self.studies:
            ctx.abort(grpc.StatusCode.NOT_FOUND, req.name)
        return self.studies[req.name]

    def SuggestTrials(self, req, ctx):
        trials = self.trials[req.parent]
        mine = [tr for tr in trials if tr.client_id == req.client_id and tr.state == t.Trial.State.ACTIVE]
        out = mine[:req.suggestion_count]
        while len(out) < req.suggestion_count:
            tr = t.Trial(name=f"{req.parent}/trials/{len(trials) + 1}", id=str(len(trials) + 1),
                         state=t.Trial.State.ACTIVE, client_id=req.client_id, start_time=now(),
                         parameters=sample(self.studies[req.parent].study_spec, self.rng))
            trials.append(tr)
            out.append(tr)
        resp = t.SuggestTrialsResponse(trials=out, study_state=t.Study.State.ACTIVE)
        return _done(t.SuggestTrialsResponse.pb(resp))

    def CreateTrial(self, req, ctx):
        trials = self.trials[req.parent]
        tr = t.Trial(req.trial)
        tr.id = str(len(trials) + 1)
        tr.name = f"{req.parent}/trials/{tr.id}"
        tr.state = t.Trial.State.SUCCEEDED if "final_measurement" in tr else t.Trial.State.REQUESTED
        trials.append(tr)
        return tr

    def _trial(self, name, ctx) -> t.Trial:
        study = name.rsplit("/trials/", 1)[0]
        for tr in self.trials.get(study, []):
            if tr.name == name:
                return tr
        ctx.abort(grpc.StatusCode.NOT_FOUND, name)

    def GetTrial(self, req, ctx):
        return self._trial(req.name, ctx)

    def ListTrials(self, req, ctx):
        if req.parent not in self.trials:
            ctx.abort(grpc.StatusCode.NOT_FOUND, req.parent)
        return t.ListTrialsResponse(trials=self.trials[req.parent])

    def DeleteTrial(self, req, ctx):
        tr = self._trial(req.name, ctx)
        self.trials[req.name.rsplit("/trials/", 1)[0]].remove(tr)
        return empty_pb2.Empty()

    def AddTrialMeasurement(self, req, ctx):
        tr = self._trial(req.trial_name, ctx)
        tr.measurements.append(req.measurement)
        return tr

    def CheckTrialEarlyStoppingState(self, req, ctx):
        tr = self._trial(req.trial_name, ctx)
        study_name = req.trial_name.rsplit("/trials/", 1)[0]
        spec = self.studies[study_name].study_spec
        should_stop = False
        if "median_automated_stopping_spec" in spec and tr.measurements:
            last = tr.measurements[-1]
            metric = spec.metrics[0]
            sign = 1 if metric.goal == t.StudySpec.MetricSpec.GoalType.MAXIMIZE else -1
            others = [m.metrics[0].value for o in self.trials[study_name]
                      if o is not tr and o.state == t.Trial.State.SUCCEEDED
                      for m in o.measurements if m.step_count == last.step_count]
            if len(others) >= 2 and sign * last.metrics[0].value < sign * statistics.median(others):
                should_stop = True
                tr.state = t.Trial.State.STOPPING
        resp = t.CheckTrialEarlyStoppingStateResponse(should_stop=should_stop)
        return _done(t.CheckTrialEarlyStoppingStateResponse.pb(resp))

    def CompleteTrial(self, req, ctx):
        tr = self._trial(req.name, ctx)
        if req.trial_infeasible:
            tr.state, tr.infeasible_reason = t.Trial.State.INFEASIBLE, req.infeasible_reason
        else:
            tr.state = t.Trial.State.SUCCEEDED
            tr.final_measurement = (req.final_measurement if "final_measurement" in req
                                    else (tr.measurements[-1] if tr.measurements else None))
        tr.end_time = now()
        return tr

    def StopTrial(self, req, ctx):
        tr = self._trial(req.name, ctx)
        if tr.state == t.Trial.State.ACTIVE:
            tr.state = t.Trial.State.STOPPING
        return tr

    def ListOptimalTrials(self, req, ctx):
        spec = self.studies[req.parent].study_spec
        signs = [1 if m.goal == t.StudySpec.MetricSpec.GoalType.MAXIMIZE else -1 for m in spec.metrics]
        done = [tr for tr in self.trials[req.parent] if tr.state == t.Trial.State.SUCCEEDED
                and not tr.infeasible_reason]

        def vec(tr):
            vals = {m.metric_id: m.value for m in tr.final_measurement.metrics}
            return [s * vals[m.metric_id] for s, m in zip(signs, spec.metrics)]

        def dominated(a):
            return any(all(x >= y for x, y in zip(vec(b), vec(a))) and vec(b) != vec(a) for b in done)

        return t.ListOptimalTrialsResponse(optimal_trials=[tr for tr in done if not dominated(tr)])

    # ---- wiring --------------------------------------------------------------------------
    def handlers(self) -> list[grpc.GenericRpcHandler]:
        def h(method, req_type, resp_ser):
            def call(raw_req, ctx):
                with self.lock:
                    self.requests.append((method, raw_req))
                    self.authorization.update(v for k, v in ctx.invocation_metadata()
                                              if k == "authorization")
                    return getattr(self, method)(raw_req, ctx)
            return grpc.unary_unary_rpc_method_handler(
                call, request_deserializer=req_type.deserialize, response_serializer=resp_ser)

        ser = lambda typ: typ.serialize  # noqa: E731
        op = operations_pb2.Operation.SerializeToString
        empty = empty_pb2.Empty.SerializeToString
        jobs = {
            "CreateHyperparameterTuningJob": h("CreateHyperparameterTuningJob",
                                               t.CreateHyperparameterTuningJobRequest,
                                               ser(t.HyperparameterTuningJob)),
            "GetHyperparameterTuningJob": h("GetHyperparameterTuningJob",
                                            t.GetHyperparameterTuningJobRequest,
                                            ser(t.HyperparameterTuningJob)),
            "ListHyperparameterTuningJobs": h("ListHyperparameterTuningJobs",
                                              t.ListHyperparameterTuningJobsRequest,
                                              ser(t.ListHyperparameterTuningJobsResponse)),
            "CancelHyperparameterTuningJob": h("CancelHyperparameterTuningJob",
                                               t.CancelHyperparameterTuningJobRequest, empty),
        }
        vizier = {
            "CreateStudy": h("CreateStudy", t.CreateStudyRequest, ser(t.Study)),
            "LookupStudy": h("LookupStudy", t.LookupStudyRequest, ser(t.Study)),
            "GetStudy": h("GetStudy", t.GetStudyRequest, ser(t.Study)),
            "SuggestTrials": h("SuggestTrials", t.SuggestTrialsRequest, op),
            "CreateTrial": h("CreateTrial", t.CreateTrialRequest, ser(t.Trial)),
            "GetTrial": h("GetTrial", t.GetTrialRequest, ser(t.Trial)),
            "ListTrials": h("ListTrials", t.ListTrialsRequest, ser(t.ListTrialsResponse)),
            "DeleteTrial": h("DeleteTrial", t.DeleteTrialRequest, empty),
            "AddTrialMeasurement": h("AddTrialMeasurement", t.AddTrialMeasurementRequest, ser(t.Trial)),
            "CheckTrialEarlyStoppingState": h("CheckTrialEarlyStoppingState",
                                              t.CheckTrialEarlyStoppingStateRequest, op),
            "CompleteTrial": h("CompleteTrial", t.CompleteTrialRequest, ser(t.Trial)),
            "StopTrial": h("StopTrial", t.StopTrialRequest, ser(t.Trial)),
            "ListOptimalTrials": h("ListOptimalTrials", t.ListOptimalTrialsRequest,
                                   ser(t.ListOptimalTrialsResponse)),
        }
        return [grpc.method_handlers_generic_handler("google.cloud.aiplatform.v1.JobService", jobs),
                grpc.method_handlers_generic_handler("google.cloud.aiplatform.v1.VizierService", vizier)]


def _done(msg) -> operations_pb2.Operation:
    packed = any_pb2.Any()
    packed.Pack(msg)
    return operations_pb2.Operation(name="operations/fake", done=True, response=packed)


def _parse_filter(text: str) -> dict[str, str]:
    """The subset of AIP-160 pipetune sends: ``key="value" AND key="value"``."""
    out = {}
    for clause in filter(None, (c.strip() for c in text.split(" AND "))):
        key, _, value = clause.partition("=")
        out[key.strip()] = value.strip().strip('"').replace('\\"', '"')
    return out


def _field(job: t.HyperparameterTuningJob, key: str) -> str:
    if key.startswith("labels."):
        return job.labels.get(key[len("labels."):], "")
    return str(getattr(job, key))


def serve(fake: FakeVertex, cert: bytes, key: bytes) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=fake.handlers())
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    server.start()
    return server, port
