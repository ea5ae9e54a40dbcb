"""Trial: sleeps --sleep seconds in steps, then prints loss = (x - 0.3)^2."""
import sys
import time

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
x, sleep = float(args["x"]), float(args.get("sleep", "0"))
for step in range(4):
    time.sleep(sleep / 4)
    print(f"loss={(x - 0.3) ** 2 + (3 - step) * 0.1:.6f}", flush=True)
