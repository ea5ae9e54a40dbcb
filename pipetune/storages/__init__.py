"""Durable study storage for the local engine."""

from pipetune.storages.journal import FlockJournalBackend, open_storage

__all__ = ["FlockJournalBackend", "open_storage"]
