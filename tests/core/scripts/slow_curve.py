"""Trial for early stopping: reports a learning curve one step at a time; bad x is slow to learn."""
import sys
import time

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
x = float(args["x"])
for step in range(12):
    loss = abs(x) + 1.0 / (step + 1)
    print(f"loss={loss:.5f}", flush=True)
    time.sleep(0.15)
