"""A real trial script for the proxy tests: ridge regression on --data, scored on --valid.

Prints ``rows=<n>`` (how many training rows it read) and ``r2=<score>`` on stdout, the
way a SageMaker-style script reports metrics.
"""

import argparse

import numpy as np
import pyarrow.csv as pacsv


def load(path):
    table = pacsv.read_csv(path)
    y = table.column("y").to_numpy()
    x = np.column_stack([table.column(n).to_numpy() for n in table.column_names if n.startswith("f")])
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--valid", required=True)
    parser.add_argument("--lam", type=float, required=True)
    args = parser.parse_args()
    x, y = load(args.data)
    xv, yv = load(args.valid)
    w = np.linalg.solve(x.T @ x + args.lam * np.eye(x.shape[1]), x.T @ y)
    resid = yv - xv @ w
    r2 = 1 - (resid @ resid) / ((yv - yv.mean()) @ (yv - yv.mean()))
    print(f"rows={len(y)}")
    print(f"r2={r2:.10f}")


if __name__ == "__main__":
    main()
