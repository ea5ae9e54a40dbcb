"""Observability and cost: what a tuning job is doing, what it costs, whether it converges.

One concept per module, each usable as a library from any pipeline step:

- :mod:`~pipetune.observability.convergence`: the "not converging" rule.
- :mod:`~pipetune.observability.cost`: a backend-neutral cost estimate (SageMaker
  instance-hours, Vertex per-trial fees plus machine hours, local CPU-seconds).
- :mod:`~pipetune.observability.budget`: budget guards (``budget.max_cost_usd``, the share of
  training compute a tuning job may take).
- :mod:`~pipetune.observability.snapshot`: one backend-neutral view of a job (counts, best,
  cost, convergence) for sensors, waits and the CLI.
- :mod:`~pipetune.observability.exporter`: the Prometheus exporter (``pipetune exporter``).
- :mod:`~pipetune.observability.tiers`: dev / staging / prod profiles in one spec.
- :mod:`~pipetune.observability.cloudwatch`: SageMaker trial health from CloudWatch.
- :mod:`~pipetune.observability.insights`: cross-study insights and a narrower search space.

Nothing here is imported by ``import pipetune``; ``prometheus_client`` and ``boto3`` are
needed only by the exporter and the CloudWatch check.
"""
