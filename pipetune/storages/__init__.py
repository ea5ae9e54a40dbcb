"""Durable study storage for the local engine.

Every path of pipetune that opens a study goes through :func:`open_storage`, so Optuna is
quieted here: its INFO lines ("A new study created in Journal ...") would otherwise land in
the output of ``pipetune tune`` and the pipeline steps.
"""

import optuna

from pipetune.storages.journal import FlockJournalBackend, open_storage


def quiet_optuna() -> None:
    """Optuna's own log at WARNING: done on import here, and by the local engine's space
    module, which the in-memory studies (the report's importances) come through."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)


quiet_optuna()

__all__ = ["FlockJournalBackend", "open_storage", "quiet_optuna"]
