"""Proxy-data tuning benchmark: full-data tuning against proxy tuning at 5, 10 and 20 %.

Data: no scikit-learn data set bundled offline has 100k rows (the large ones, covtype and
the like, are downloads), so this uses a documented synthetic set:
``make_classification(n_samples=260_000, n_features=20, n_informative=12, n_redundant=4,
n_clusters_per_class=4, flip_y=0.05, class_sep=0.7, weights=[0.65], random_state=0)``,
split 200k train / 30k validation / 30k test.

Model: HistGradientBoostingClassifier (60 rounds), tuning learning_rate, max_leaf_nodes,
min_samples_leaf, l2_regularization on validation accuracy; TPE, the same seed and the same
number of trials for every arm; one trial at a time and OMP_NUM_THREADS=1 so a trial's
process CPU time is its compute.

Measured per arm: tuning compute (trial CPU-seconds; for proxy arms the sample trials plus
the top-k verification on full data), the final model's test accuracy (trained on all
200k rows with the arm's winner), and the Spearman correlation of proxy and full-data
scores over the verified top k.

Memory: writes a ~1 GB CSV under --workdir and samples it (10 %, stratified) with
``pipetune proxy sample`` in a child process, reporting the child's peak RSS.

Run (about 10 minutes on 2 cores):
    .venv/bin/python benchmarks/proxy_benchmark.py --workdir /tmp/pipetune-proxy-bench
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before scikit-learn loads OpenMP

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from proxy_bench_trial import fit  # noqa: E402

FIXED = {"max_iter": 60}


def make_data(folder: Path) -> dict[str, str]:
    from sklearn.datasets import make_classification

    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: str(folder / f"{k}.parquet") for k in ("train", "valid", "test")}
    if all(Path(p).exists() for p in paths.values()):
        return paths
    x, y = make_classification(n_samples=260_000, n_features=20, n_informative=12,
                               n_redundant=4, n_clusters_per_class=4, flip_y=0.05,
                               class_sep=0.7, weights=[0.65], random_state=0)
    cuts = {"train": slice(0, 200_000), "valid": slice(200_000, 230_000),
            "test": slice(230_000, 260_000)}
    for name, cut in cuts.items():
        cols = {f"f{i}": x[cut, i] for i in range(x.shape[1])}
        cols["label"] = y[cut]
        pq.write_table(pa.table(cols), paths[name])
    return paths


def spec_body(paths: dict[str, str], trials: int, proxy: dict | None) -> dict:
    body = {
        "parameters": [
            {"name": "learning_rate", "type": "continuous", "min": 0.01, "max": 0.5, "scaling": "log"},
            {"name": "max_leaf_nodes", "type": "integer", "min": 4, "max": 256, "scaling": "log"},
            {"name": "min_samples_leaf", "type": "integer", "min": 5, "max": 400, "scaling": "log"},
            {"name": "l2_regularization", "type": "continuous", "min": 1e-4, "max": 10, "scaling": "log"},
        ],
        "static": {"data": paths["train"], "valid": paths["valid"], **FIXED},
        "objectives": [{"metric": "accuracy", "goal": "maximize"}],
        "trial": {"callable": "proxy_bench_trial:fit", "workdir": str(HERE)},
        "strategy": "tpe", "seed": 0,
        "budget": {"max_trials": trials},
    }
    if proxy:
        body["proxy"] = proxy
    return body


def test_score(paths, params) -> float:
    return fit({**params, **FIXED, "data": paths["train"], "valid": paths["test"]})["accuracy"]


def run_tuning(workdir: Path, trials: int, fractions: list[float], top_k: int) -> list[dict]:
    from pipetune.backends.local import LocalBackend
    from pipetune.proxy import run_proxy_tuning
    from pipetune.spec import load_spec

    os.environ["PIPETUNE_HOME"] = str(workdir / "home")
    paths = make_data(workdir / "data")
    rows = []
    backend = LocalBackend()
    spec = load_spec(spec_body(paths, trials, None))
    wall = time.monotonic()
    ref = backend.launch(spec, "full", detach=False)
    records = backend.trials(ref)
    best = backend.best(ref)
    rows.append({
        "arm": "full data", "trials": len(records),
        "tuning_cpu_s": sum(r.metrics.get("cpu_seconds", 0) for r in records),
        "wall_s": time.monotonic() - wall, "params": best.params,
        "valid_accuracy": best.value, "test_accuracy": test_score(paths, best.params),
        "correlation": None,
    })
    print(json.dumps(rows[-1]), flush=True)
    for f in fractions:
        wall = time.monotonic()
        proxy = {"fraction": f, "stratify": "label", "seed": 0, "verify_top_k": top_k}
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            result = run_proxy_tuning(spec_body(paths, trials, proxy), f"proxy-{int(f * 100)}")
        proxy_cpu = sum(r.metrics.get("cpu_seconds", 0) for r in backend.trials(result.proxy_job))
        verify_cpu = sum(c.full_metrics.get("cpu_seconds", 0) for c in result.candidates)
        rows.append({
            "arm": f"proxy {f:.0%}", "trials": result.best.trials_total,
            "proxy_cpu_s": proxy_cpu, "verify_cpu_s": verify_cpu,
            "tuning_cpu_s": proxy_cpu + verify_cpu, "wall_s": time.monotonic() - wall,
            "params": result.best.params, "valid_accuracy": result.best.value,
            "test_accuracy": test_score(paths, result.best.params),
            "correlation": result.correlation, "winner_changed": result.winner_changed,
        })
        print(json.dumps(rows[-1]), flush=True)
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


def report(rows: list[dict], memory: dict | None, args) -> str:
    lines = [f"### Proxy-data tuning ({date.today().isoformat()}, {os.cpu_count()} cores, "
             f"{platform.processor() or platform.machine()}, Python {platform.python_version()})",
             "", "Command: `.venv/bin/python benchmarks/proxy_benchmark.py "
             + " ".join(sys.argv[1:]) + "`", ""]
    if rows:
        full = rows[0]
        lines += ["| arm | trials | tuning CPU-s | less compute | test accuracy | vs full | Spearman (top k) |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            ratio = full["tuning_cpu_s"] / r["tuning_cpu_s"]
            rel = (r["test_accuracy"] - full["test_accuracy"]) / full["test_accuracy"]
            corr = "-" if r["correlation"] is None else f"{r['correlation']:.2f}"
            detail = (f" ({r['proxy_cpu_s']:.0f} sample + {r['verify_cpu_s']:.0f} verify)"
                      if "proxy_cpu_s" in r else "")
            lines.append(f"| {r['arm']} | {r['trials']} | {r['tuning_cpu_s']:.0f}{detail} | "
                         f"{ratio:.1f}x | {r['test_accuracy']:.4f} | {rel:+.2%} | {corr} |")
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
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--fractions", default="0.05,0.1,0.2")
    parser.add_argument("--csv-gb", type=float, default=1.0)
    parser.add_argument("--part", choices=["all", "tuning", "memory"], default="all")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    memory = run_memory(workdir, args.csv_gb) if args.part in ("all", "memory") else None
    if memory:
        print(json.dumps(memory), flush=True)
    rows = (run_tuning(workdir, args.trials, [float(x) for x in args.fractions.split(",")], args.top_k)
            if args.part in ("all", "tuning") else [])
    text = report(rows, memory, args)
    (workdir / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
