"""A Vertex-style trial: --name=value args, one cloudml-hypertune report per step.

--steps N reports N values (step 0..N-1). --shape peak: the curve rises to its best at the
middle step and falls back (the best intermediate differs from the last); --shape ramp: the
value at step s is s / 1000 (so every step's value is known). --pace seconds between reports.
"""

import argparse
import time

import hypertune

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--shape", default="peak")
parser.add_argument("--pace", type=float, default=0.0)
args = parser.parse_args()
ht = hypertune.HyperTune()
middle = args.steps // 2
for step in range(args.steps):
    if args.shape == "peak":
        value = args.x - abs(step - middle) / args.steps
    else:
        value = step / 1000
    ht.report_hyperparameter_tuning_metric(hyperparameter_metric_tag="score",
                                           metric_value=value, global_step=step)
    if args.pace:
        time.sleep(args.pace)
