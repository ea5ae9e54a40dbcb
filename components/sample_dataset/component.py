from kfp.dsl import Dataset, Input, Output

from pipetune.components._image import pipetune_component


@pipetune_component
def sample_dataset(
    data: Input[Dataset],
    sample: Output[Dataset],
    fraction: float = 0.0,
    rows: int = 0,
    stratify: str = "",
    seed: int = 0,
    format: str = "csv",
) -> int:
    """Writes a seeded sample of a data set, for proxy-data tuning (tune on the sample).

    Give exactly one of ``fraction`` and ``rows``. The sample's manifest (rows in and
    out, class counts, seed, sha256) is written next to it and into its metadata.

    Args:
        data: The full data set (CSV or Parquet).
        fraction: Share of rows to keep, in (0, 1]; 0 means not given.
        rows: Number of rows to keep; 0 means not given.
        stratify: Column whose class proportions the sample keeps; empty for uniform.
        seed: Random seed; the same seed gives the same sample.
        format: ``csv`` or ``parquet`` (artifact paths have no file extension).

    Returns:
        sample: The sample, in the format of ``data``, with the manifest in its metadata.
        Output: Number of rows in the sample.
    """
    from pipetune import steps
    from pipetune.proxy import sample_dataset as take_sample

    with steps.user_errors():
        manifest = take_sample(data.path, sample.path, fraction=fraction or None,
                               rows=rows or None, stratify=stratify or None, seed=seed,
                               format=format or None)
        sample.metadata.update({k: v for k, v in manifest.model_dump(mode="json").items()
                                if k not in ("source", "sample")})
        print(f"sampled {manifest.rows_out} of {manifest.rows_in} rows (seed {seed})")
        return manifest.rows_out
