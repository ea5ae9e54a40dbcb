"""Trial: sleeps NAP_SECONDS (default 0.2), then loss = (x - 0.5)^2 + n/10 (+1 for kind b)."""
import os
import sys
import time

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
time.sleep(float(os.environ.get("NAP_SECONDS", "0.2")))
loss = (float(args["x"]) - 0.5) ** 2 + int(args["n"]) / 10 + (1.0 if args["kind"] == "b" else 0.0)
print(f"loss={loss:.6f}")
