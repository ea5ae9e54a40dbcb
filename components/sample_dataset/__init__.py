"""Seeded sample of a data set for proxy-data tuning."""

from pipetune.components.sample_dataset.component import sample_dataset

__all__ = ["sample_dataset"]
