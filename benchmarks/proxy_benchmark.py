"""Proxy-data tuning benchmark: full-data tuning against proxy tuning at 5, 10 and 20 %.

Data: no scikit-learn data set bundled offline has 100k rows (the large ones, covtype and
the like, are downloads; ``~/scikit_learn_data`` does not exist here), so this uses a
documented synthetic set:
``make_classification(n_samples=250_000, n_features=20, n_informative=12, n_redundant=4,
n_clusters_per_class=4, flip_y=0.05, class_sep=0.7, weights=[0.65], random_state=0)``,
rows 0-199,999 are the training data (``train.parquet``), rows 200,000-249,999 the test
set (``test.parquet``).

The trial (``proxy_bench_trial.fit``) is what a user's ``train.py`` is: it gets one data
file, holds out a stratified, seeded 20 % of the rows it was given as its validation set,
trains a small MLP (Adam, batches of 256, 8 epochs; tuned: learning rate, L2 alpha, width,
depth) on the rest and reports validation accuracy. Every arm runs the same trial code:

- **full data**: the trial gets ``train.parquet`` (200k rows: 160k fit / 40k validation);
- **proxy f**: ``pipetune.proxy.run_proxy_tuning`` samples ``train.parquet`` (stratified on
  ``label``, seeded), tunes on the sample (the trial splits *the sample*: at 5 % that is
  8k fit / 2k validation), then re-runs the proxy's top k on ``train.parquet`` and keeps the
  best of those on full data.

Why this is fair:

- the same search space, strategy (TPE), seed, number of trials (``--trials``) and trial
  code in every arm; only the data file differs;
- a trial's cost is what the trial does with its data: nothing is fixed-size (no shared
  validation file scored in every trial), so a sample is as cheap as it really is, no
  cheaper: loading, splitting, every epoch and scoring are linear in rows;
- proxy compute counts everything proxy tuning costs: drawing the sample (timed
  separately with the same arguments), every sample trial, and the k full-data
  verifications;
- every arm's winner is judged the same way, on data no tuning saw: trained on all 200k
  training rows (``proxy_bench_trial.final``) and scored on the 50k test rows;
- several seeds (TPE seed and sample seed both vary; data and split seed fixed), so
  "within 1 %" is not one lucky draw.

Budget arithmetic: with N tuning trials and k verifications, proxy compute is about
``fraction * N + k`` full-trial equivalents against ``N``, so the ratio is at most
``1 / (fraction + k / N)``: with N=60, k=3 that is 10x at 5 %, 6.7x at 10 % and 4x at 20 %.
20 % cannot reach 5x with any top-k verification at this N.

Compute is the trial thread's CPU time (``time.thread_time``; one trial at a time,
OpenMP/BLAS pinned to one thread). Engine overhead (TPE, journal) is not trial compute
and is the same per trial in every arm; it is reported as wall time.

Memory: writes a ~1 GB CSV under --workdir and samples it (10 %, stratified) with
``pipetune proxy sample`` in a child process, reporting the child's peak RSS.

Run (tuning, 5 seeds: 29 minutes on 2 shared cores, about 6 per seed):
    nice -n 19 .venv/bin/python benchmarks/proxy_benchmark.py --part tuning \
        --workdir /tmp/pipetune-proxy-bench --trials 60 --top-k 3 --seeds 0,1,2,3,4
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy / scikit-learn load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from proxy_bench_trial import FIXED, final  # noqa: E402

TRAIN_ROWS, TEST_ROWS = 200_000, 50_000


def make_data(folder: Path) -> dict[str, str]:
    from sklearn.datasets import make_classification

    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: str(folder / f"{k}.parquet") for k in ("train", "test")}
    if all(Path(p).exists() for p in paths.values()):
        return paths
    x, y = make_classification(n_samples=TRAIN_ROWS + TEST_ROWS, n_features=20,
                               n_informative=12, n_redundant=4, n_clusters_per_class=4,
                               flip_y=0.05, class_sep=0.7, weights=[0.65], random_state=0)
    cuts = {"train": slice(0, TRAIN_ROWS), "test": slice(TRAIN_ROWS, TRAIN_ROWS + TEST_ROWS)}
    for name, cut in cuts.items():
        cols = {f"f{i}": x[cut, i] for i in range(x.shape[1])}
        cols["label"] = y[cut]
        pq.write_table(pa.table(cols), paths[name])
    return paths


def spec_body(paths: dict[str, str], trials: int, seed: int, proxy: dict | None) -> dict:
    body = {
        "parameters": [
            {"name": "learning_rate", "type": "continuous", "min": 1e-4, "max": 0.1, "scaling": "log"},
            {"name": "alpha", "type": "continuous", "min": 1e-6, "max": 0.1, "scaling": "log"},
            {"name": "width", "type": "integer", "min": 8, "max": 48, "scaling": "log"},
            {"name": "layers", "type": "integer", "min": 1, "max": 3},
        ],
        "static": {"data": paths["train"], **FIXED},
        "objectives": [{"metric": "accuracy", "goal": "maximize"}],
        "trial": {"callable": "proxy_bench_trial:fit", "workdir": str(HERE)},
        "strategy": "tpe", "seed": seed,
        "budget": {"max_trials": trials, "max_parallel": 1},
    }
    if proxy:
        body["proxy"] = proxy
    return body


def sampling_cpu(paths: dict[str, str], scratch: Path, fraction: float, seed: int) -> float:
    """CPU seconds of drawing the sample the proxy arm draws (same arguments, scratch copy)."""
    from pipetune.proxy import sample_dataset

    start = time.process_time()
    sample_dataset(paths["train"], str(scratch / "train.parquet"), fraction=fraction,
                   stratify="label", seed=seed, manifest=str(scratch / "manifest.json"))
    return time.process_time() - start


def run_seed(workdir: Path, paths: dict[str, str], seed: int, trials: int,
             fractions: list[float], top_k: int, finals: dict) -> list[dict]:
    from pipetune.backends.local import LocalBackend
    from pipetune.proxy import run_proxy_tuning
    from pipetune.spec import load_spec

    def test_score(params: dict) -> float:
        key = json.dumps({k: params[k] for k in ("learning_rate", "alpha", "width", "layers")},
                         sort_keys=True)
        if key not in finals:
            finals[key] = final({**FIXED, **params}, paths["train"], paths["test"])["accuracy"]
        return finals[key]

    rows = []
    backend = LocalBackend()
    wall = time.monotonic()
    ref = backend.launch(load_spec(spec_body(paths, trials, seed, None)), f"full-s{seed}",
                         detach=False)
    records = backend.trials(ref)
    best = backend.best(ref)
    rows.append({
        "seed": seed, "arm": "full data", "fraction": 1.0, "trials": len(records),
        "tuning_cpu_s": sum(r.metrics.get("cpu_seconds", 0) for r in records),
        "wall_s": time.monotonic() - wall, "params": best.params,
        "valid_accuracy": best.value, "test_accuracy": test_score(best.params),
        "correlation": None,
    })
    print(json.dumps(rows[-1]), flush=True)
    for f in fractions:
        sample_cpu = sampling_cpu(paths, workdir / "scratch" / f"s{seed}-{f}", f, seed)
        wall = time.monotonic()
        proxy = {"fraction": f, "stratify": "label", "seed": seed, "verify_top_k": top_k}
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            result = run_proxy_tuning(spec_body(paths, trials, seed, proxy),
                                      f"proxy{round(f * 100)}-s{seed}")
        proxy_cpu = sum(r.metrics.get("cpu_seconds", 0) for r in backend.trials(result.proxy_job))
        verify_cpu = sum(c.full_metrics.get("cpu_seconds", 0) for c in result.candidates)
        rows.append({
            "seed": seed, "arm": f"proxy {f:.0%}", "fraction": f, "trials": result.best.trials_total,
            "sample_cpu_s": sample_cpu, "proxy_cpu_s": proxy_cpu, "verify_cpu_s": verify_cpu,
            "tuning_cpu_s": sample_cpu + proxy_cpu + verify_cpu,
            "wall_s": time.monotonic() - wall, "params": result.best.params,
            "valid_accuracy": result.best.value, "test_accuracy": test_score(result.best.params),
            "correlation": result.correlation, "fidelity_low": result.fidelity_low,
            "winner_changed": result.winner_changed,
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def run_tuning(workdir: Path, trials: int, fractions: list[float], top_k: int,
               seeds: list[int], out: Path) -> list[dict]:
    os.environ["PIPETUNE_HOME"] = str(workdir / "home")
    paths = make_data(workdir / "data")
    rows: list[dict] = []
    finals: dict = {}
    for seed in seeds:
        rows += run_seed(workdir, paths, seed, trials, fractions, top_k, finals)
        out.write_text(json.dumps(rows, indent=1, default=str))  # a partial run keeps its seeds
    return rows


def write_big_csv(path: Path, target_bytes: int) -> int:
    rng = np.random.default_rng(1)
    rows, chunk = 0, 500_000
    with pa.OSFile(str(path), "wb") as sink:
        writer = None
        while sink.tell() < target_bytes:
            cols = {f"f{i}": np.round(rng.normal(size=chunk), 6) for i in range(12)}
            cols["label"] = rng.choice(np.array(["a", "b", "c", "d"]), chunk, p=[0.55, 0.3, 0.1, 0.05])
            table = pa.table(cols)
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
            rows += chunk
        writer.close()
    return rows


def run_memory(workdir: Path, gigabytes: float) -> dict:
    big = workdir / "big.csv"
    if not big.exists():
        write_big_csv(big, int(gigabytes * 1e9))
    size = big.stat().st_size
    out = workdir / "big-sample" / "sample.csv"
    cmd = [sys.executable, "-c", "from pipetune.cli import main; main()", "proxy", "sample",
           str(big), str(out), "--fraction", "0.1", "--stratify", "label", "--seed", "0", "--json"]
    wall = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    manifest = json.loads(proc.stdout)
    return {"csv_bytes": size, "rows_in": manifest["rows_in"], "rows_out": manifest["rows_out"],
            "peak_rss_mb": after.ru_maxrss / 1024, "wall_s": time.monotonic() - wall,
            "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "class_counts_out": manifest["class_counts_out"]}


def _params(p: dict) -> str:
    return (f"lr {p['learning_rate']:.2g}, alpha {p['alpha']:.1g}, "
            f"{p['layers']}x{p['width']}")


def report(rows: list[dict], memory: dict | None, load: str) -> str:
    lines = [f"### Proxy-data tuning ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}, load average {load})",
             "", "Command: `nice -n 19 .venv/bin/python benchmarks/proxy_benchmark.py "
             + " ".join(sys.argv[1:]) + "`", ""]
    if rows:
        full = {r["seed"]: r for r in rows if r["arm"] == "full data"}
        lines += ["| seed | arm | trials | tuning CPU-s | less compute | test accuracy | vs full "
                  "| Spearman (top k) | winner |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            f = full[r["seed"]]
            r["ratio"] = f["tuning_cpu_s"] / r["tuning_cpu_s"]
            r["rel"] = (r["test_accuracy"] - f["test_accuracy"]) / f["test_accuracy"]
            corr = "-" if r["correlation"] is None else f"{r['correlation']:.2f}"
            if r.get("fidelity_low"):
                corr += " (warned)"
            detail = (f" ({r['sample_cpu_s']:.1f} sample + {r['proxy_cpu_s']:.0f} trials + "
                      f"{r['verify_cpu_s']:.0f} verify)" if "proxy_cpu_s" in r else "")
            changed = " (changed by verify)" if r.get("winner_changed") else ""
            lines.append(f"| {r['seed']} | {r['arm']} | {r['trials']} | {r['tuning_cpu_s']:.0f}{detail} | "
                         f"{r['ratio']:.1f}x | {r['test_accuracy']:.4f} | {r['rel']:+.2%} | {corr} | "
                         f"{_params(r['params'])}{changed} |")
        lines += ["", "Summary over seeds (mean, [min, max]):", "",
                  "| arm | less compute | test accuracy vs full | worst seed | seeds within 1 % |",
                  "|---|---|---|---|---|"]
        for arm in dict.fromkeys(r["arm"] for r in rows):
            if arm == "full data":
                continue
            sel = [r for r in rows if r["arm"] == arm]
            ratios, rels = [r["ratio"] for r in sel], [r["rel"] for r in sel]
            lines.append(f"| {arm} | {statistics.mean(ratios):.1f}x [{min(ratios):.1f}, {max(ratios):.1f}] | "
                         f"{statistics.mean(rels):+.2%} [{min(rels):+.2%}, {max(rels):+.2%}] | "
                         f"{min(rels):+.2%} | {sum(x >= -0.01 for x in rels)}/{len(rels)} |")
        lines.append("")
    if memory:
        lines += [f"Memory: sampling a {memory['csv_bytes'] / 1e9:.2f} GB CSV "
                  f"({memory['rows_in']:,} rows -> {memory['rows_out']:,}, 10 %, stratified, 2 passes): "
                  f"peak RSS {memory['peak_rss_mb']:.0f} MB, {memory['wall_s']:.0f} s wall, "
                  f"{memory['cpu_s']:.0f} CPU-s.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/pipetune-proxy-bench")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--fractions", default="0.05,0.1,0.2")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--csv-gb", type=float, default=1.0)
    parser.add_argument("--part", choices=["all", "tuning", "memory"], default="all")
    parser.add_argument("--out", default=str(HERE / "results" / "proxy_tuning.json"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    load = "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    started = time.monotonic()
    memory = run_memory(workdir, args.csv_gb) if args.part in ("all", "memory") else None
    if memory:
        print(json.dumps(memory), flush=True)
    rows = (run_tuning(workdir, args.trials, [float(x) for x in args.fractions.split(",")],
                       args.top_k, [int(s) for s in args.seeds.split(",")], Path(args.out))
            if args.part in ("all", "tuning") else [])
    load += " at start, {:.1f} / {:.1f} / {:.1f} at end".format(*os.getloadavg())
    text = report(rows, memory, load)
    text += f"\nTotal wall time {time.monotonic() - started:.0f} s.\n"
    (workdir / "results.md").write_text(text)
    if rows:
        Path(args.out).with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
