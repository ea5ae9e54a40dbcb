"""Trial: every trial scores better than the one before (score = trial number + x)."""
import os
import sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
n = int(os.environ["PIPETUNE_TRIAL_NUMBER"])
print(f"score={n + 0.5 * float(args['x']):.6f}")
