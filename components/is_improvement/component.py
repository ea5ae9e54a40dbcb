from typing import Optional


from pipetune.components._image import pipetune_component


@pipetune_component
def is_improvement(
    candidate: float,
    baseline: Optional[float] = None,
    goal: str = "maximize",
    min_delta: float = 0.0,
    relative: bool = False,
) -> bool:
    """Says whether a new objective value beats a baseline: the deploy gate for ``dsl.If``.

    Args:
        candidate: The new model's objective value (e.g. ``get_best_hyperparameters``'s
            ``value`` or the full training's evaluation).
        baseline: The production model's value; none means no model yet, so any finite
            candidate passes.
        goal: ``maximize`` or ``minimize``.
        min_delta: How much better the candidate must be (absolute, or a fraction of
            ``|baseline|`` when ``relative``).
        relative: Read ``min_delta`` as a fraction of the baseline.

    Returns:
        True when the candidate is better than the baseline by more than ``min_delta``.
    """
    from pipetune import steps
    from pipetune.compare import is_improvement as better

    with steps.user_errors():
        verdict = better(candidate, baseline, goal=goal, min_delta=min_delta, relative=relative)
        print(f"candidate {candidate} vs baseline {baseline} ({goal}, min_delta {min_delta}): "
              f"{'improvement' if verdict else 'no improvement'}")
        return verdict
