from typing import NamedTuple

from kfp.dsl import HTML, Markdown, Metrics, Output

from pipetune.components._image import pipetune_component


@pipetune_component
def get_best_hyperparameters(
    job: str,
    best_metrics: Output[Metrics],
    report: Output[Markdown],
    report_html: Output[HTML],
    spec: str = "",
    backend_options: dict = {},
) -> NamedTuple("Outputs", params=dict, params_json=str, value=float, trial=str):
    """Reads the best trial of a finished tuning job, with parameters in the spec's types.

    Args:
        job: The job handle (JSON) output by ``launch_tuning`` or ``wait_for_tuning``.
        spec: Optional tuning spec (YAML or JSON text) to cast the parameters against;
            by default the spec the backend stored with the job.
        backend_options: Keyword arguments of the backend, as given to ``launch_tuning``.

    Returns:
        params: The best hyperparameters (tuned and static) as a dict, cast to the spec's
            types. KFP carries dict values as JSON numbers, so a consumer sees integers as
            floats (``3.0``): use ``params_json`` or ``pipetune.cast_params`` downstream.
        params_json: The same parameters as JSON text; ``json.loads`` gives integers back
            as integers. The input to hand to a training step.
        value: The best value of the primary objective.
        trial: Id of the best trial.
        best_metrics: The best trial's metrics, shown in the Vertex AI Pipelines UI.
        report: A Markdown report: the winner, trial counts, the top trials, failures.
        report_html: The same report as self-contained HTML with plots inlined.
    """
    import json
    import tempfile
    from collections import namedtuple

    from pipetune import report as reports
    from pipetune import steps
    from pipetune.spec import load_spec

    with steps.user_errors():
        ref = steps.parse_job(job)
        tuning_spec = load_spec(spec) if spec.strip() else steps.spec_of(ref, backend_options)
        best, trials = steps.best_outputs(ref, backend_options=backend_options, spec=tuning_spec)
        for name, metric in sorted(best.metrics.items()):
            best_metrics.log_metric(name, metric)
        best_metrics.log_metric("trials_complete", best.trials_complete)
        best_metrics.log_metric("trials_failed", best.trials_failed)
        if tuning_spec is not None:
            files = reports.write_report(tuning_spec, best, trials, tempfile.mkdtemp())
            markdown, page = files.markdown.read_text(), files.html.read_text()
        else:
            markdown = f"# {best.job}\n\nbest {best.objective}: {best.value}\n\n{best.params}\n"
            page = f"<pre>{markdown}</pre>"
        with open(report.path, "w", encoding="utf-8") as fh:
            fh.write(markdown)
        with open(report_html.path, "w", encoding="utf-8") as fh:
            fh.write(page)
        text = steps.params_json(best)
        print(f"best {best.objective} = {best.value} from {best.trial}: {text}")
        outputs = namedtuple("Outputs", ["params", "params_json", "value", "trial"])
        return outputs(json.loads(text), text, float(best.value), best.trial)
