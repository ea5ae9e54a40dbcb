from typing import NamedTuple

from kfp.dsl import Dataset, Markdown, Metrics, Output

from pipetune.components._image import pipetune_component


@pipetune_component
def vertex_tuning_results(
    gcp_resources: str,
    best_metrics: Output[Metrics],
    trials: Output[Dataset],
    report: Output[Markdown],
    backend_options: dict = {},
    wait: bool = True,
) -> NamedTuple("Outputs", params=dict, params_json=str, value=float, trial=str, job=str):
    """Typed best hyperparameters and trials of gcpc's ``HyperparameterTuningJobRunOp``.

    gcpc 2.x's run op outputs only ``gcp_resources``; this step reads the Vertex AI
    ``HyperparameterTuningJob`` it names, takes the parameter types from the job's study
    spec (integers stay integers) and picks the best trial by the job's first metric.

    Args:
        gcp_resources: The ``gcp_resources`` output of ``HyperparameterTuningJobRunOp``.
        backend_options: Keyword arguments of pipetune's Vertex backend, e.g.
            ``{"api_endpoint": "us-central1-aiplatform.googleapis.com"}``; project and
            location come from the job's resource name.
        wait: Wait for the job to end first (it has, after the run op).

    Returns:
        params: The best hyperparameters as a dict (KFP turns integers in a dict into
            floats downstream; ``params_json`` keeps them).
        params_json: The best hyperparameters as JSON text, integers as integers.
        value: The best value of the job's first metric.
        trial: Id of the best trial.
        job: A pipetune job handle (JSON) on the tuning job, for other pipetune steps.
        best_metrics: The best trial's metrics, shown in the Vertex AI Pipelines UI.
        trials: Every trial as JSON lines (id, state, params, metrics, reason).
        report: A Markdown report of the job.
    """
    import json
    from collections import namedtuple

    from pipetune import steps
    from pipetune.gcpc import attach_hp_job
    from pipetune.report import render_markdown

    with steps.user_errors():
        backend = steps.backend_for("vertex", backend_options)
        ref = attach_hp_job(backend, gcp_resources)
        if wait:
            backend.wait(ref, poll_seconds=30.0)
        spec = backend.spec_of(ref)
        best, records = steps.best_outputs(ref, backend_options=backend_options)
        for name, metric in sorted(best.metrics.items()):
            best_metrics.log_metric(name, metric)
        best_metrics.log_metric("trials_complete", best.trials_complete)
        with open(trials.path, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(record.model_dump_json() + "\n")
        with open(report.path, "w", encoding="utf-8") as fh:
            fh.write(render_markdown(spec, best, records))
        text = steps.params_json(best)
        print(f"best {best.objective} = {best.value} from trial {best.trial}: {text}")
        outputs = namedtuple("Outputs", ["params", "params_json", "value", "trial", "job"])
        return outputs(json.loads(text), text, float(best.value), best.trial, ref.to_json())
