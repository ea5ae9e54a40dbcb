"""Proxy-data tuning: sample the data exactly, tune on the sample, verify on everything.

- :func:`sample_dataset` (:mod:`pipetune.proxy.sampling`): seeded, streaming, uniform or
  stratified sampling of CSV/Parquet through fsspec, with a manifest.
- :func:`run_proxy_tuning` (:mod:`pipetune.proxy.workflow`): sample -> tune -> re-evaluate
  the top k on the full data -> the verified winner, with a rank-correlation check.

Needs the ``proxy`` extra (pyarrow, fsspec): ``pip install 'pipetune[proxy]'``.
"""

from pipetune.extras import require

for _module in ("pyarrow", "fsspec"):
    require(_module, feature="proxy-data tuning", extra="proxy")

from pipetune.proxy.errors import SamplingError
from pipetune.proxy.fidelity import ProxyFidelityWarning, check_fidelity
from pipetune.proxy.sampling import SampleManifest, read_manifest, sample_dataset
from pipetune.proxy.workflow import Candidate, ProxyResult, run_proxy_tuning

__all__ = [
    "Candidate", "ProxyFidelityWarning", "ProxyResult", "SampleManifest", "SamplingError",
    "check_fidelity", "read_manifest", "run_proxy_tuning", "sample_dataset",
]
