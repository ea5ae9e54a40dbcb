"""Trial that misbehaves according to PIPETUNE_TRIAL_NUMBER: crash, hang, NaN, no metric,
garbage, flood of output, killed by SIGKILL, then fine."""
import os
import signal
import sys
import time

n = int(os.environ["PIPETUNE_TRIAL_NUMBER"])
mode = ["crash", "hang", "nan", "none", "garbage", "flood", "oom", "ok"][n % 8]
if mode == "crash":
    print("about to fail", file=sys.stderr)
    raise SystemExit(3)
if mode == "hang":
    time.sleep(60)
if mode == "nan":
    print("loss=nan")
if mode == "none":
    print("all done, but no metric")
if mode == "garbage":
    print("loss=\x00\x01garbage")
if mode == "flood":
    line = "x" * 1000 + "\n"
    sys.stdout.write(line * 5000)  # ~5 MB
    print("loss=1.5")
if mode == "oom":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "ok":
    print("loss=0.25")
