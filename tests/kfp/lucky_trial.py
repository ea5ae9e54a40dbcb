"""Trial: the first trial is lucky (score 10); every later one scores x, within [0, 1]."""
import os
import sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
n = int(os.environ["PIPETUNE_TRIAL_NUMBER"])
print(f"score={10.0 if n == 0 else float(args['x']):.6f}")
