"""A trial script on the Vertex contract: --name=value args, metrics via cloudml-hypertune.

Outcomes by CLOUD_ML_TRIAL_ID, so tests know what to expect: trial 3 crashes, trial 5
reports NaN, even trials from 4 on are far worse than the rest (early stopping's prey).
With --hold=N the trial sleeps N seconds per step (a trial long enough to be stopped).
"""

import argparse
import math
import os
import sys
import time

import hypertune

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--n", type=int, required=True)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--hold", type=float, default=0.55)
args = parser.parse_args()
trial = int(os.environ["CLOUD_ML_TRIAL_ID"])
assert isinstance(args.n, int)
if trial == 3:
    sys.exit("out of memory, pretend")
value = 1.0 - (args.x - 0.3) ** 2 - 0.01 * args.n - (10.0 if trial >= 4 and trial % 2 == 0 else 0.0)
ht = hypertune.HyperTune()
for step in range(1, args.epochs + 1):
    reported = math.nan if trial == 5 else value - 0.1 * (args.epochs - step)
    ht.report_hyperparameter_tuning_metric(hyperparameter_metric_tag="score",
                                           metric_value=reported, global_step=step)
    time.sleep(args.hold)
