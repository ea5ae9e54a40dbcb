"""A short command trial for the crash drill: sleeps, appends what it ran to the ledger named
by DRILL_LEDGER (one line per process), prints its loss."""
import json
import os
import sys
import time

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
x, k = float(args["x"]), int(args["k"])
time.sleep(float(os.environ.get("DRILL_SLEEP", "0.3")))
loss = (x - 1.0) ** 2 + k / 10
fd = os.open(os.environ["DRILL_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
line = json.dumps({"x": args["x"], "k": k, "loss": loss, "pid": os.getpid()}) + "\n"
os.write(fd, line.encode())
os.close(fd)
print(f"loss={loss!r}", flush=True)
