from typing import NamedTuple


from pipetune.components._image import pipetune_component


@pipetune_component
def wait_for_tuning(
    job: str,
    backend_options: dict = {},
    poll_seconds: float = 10.0,
    timeout_seconds: float = 0.0,
    resume_interrupted: bool = True,
    on_not_converging: str = "ignore",
) -> NamedTuple("Outputs", job=str, state=str, trials_complete=int, trials_failed=int):
    """Waits until a tuning job ends; fails the step unless the job completed.

    A failed or stopped job fails this step with the backend's reason. A local-engine job
    whose coordinator died with the launch step's container is resumed here (when
    ``resume_interrupted``): this step then runs the remaining trials itself.

    Args:
        job: The job handle (JSON) output by ``launch_tuning``.
        backend_options: Keyword arguments of the backend, as given to ``launch_tuning``.
        poll_seconds: Seconds between status checks (at most; the first checks are faster).
        timeout_seconds: Give up waiting after this many seconds (the job goes on);
            0 waits for ever.
        resume_interrupted: Resume an interrupted local-engine job in this step.
        on_not_converging: ``ignore``, ``warn`` (log it) or ``fail`` (fail the step) when
            the job is flagged "not converging" (the rule in docs/observability.md).

    Returns:
        job: The same job handle, to chain steps after the wait.
        state: The job's final state (``completed``).
        trials_complete: Number of trials that completed.
        trials_failed: Number of trials that failed.
    """
    from collections import namedtuple

    from pipetune import steps

    with steps.user_errors():
        ref = steps.parse_job(job)
        status = steps.wait(ref, backend_options=backend_options, poll_seconds=poll_seconds,
                            timeout=timeout_seconds or None, resume_interrupted=resume_interrupted,
                            on_not_converging=on_not_converging)
        print(f"job {ref.name!r} {status.state.value}: {status.trials.complete} complete, "
              f"{status.trials.failed} failed")
        outputs = namedtuple("Outputs", ["job", "state", "trials_complete", "trials_failed"])
        return outputs(ref.to_json(), status.state.value, status.trials.complete,
                       status.trials.failed)
