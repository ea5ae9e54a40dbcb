"""A trial that misbehaves in the way its trial number picks (see test_rel_faulty_trials)."""
import os
import signal
import sys
import time

kind = int(os.environ["PIPETUNE_TRIAL_NUMBER"]) % 8
if kind == 0:
    print("about to crash", file=sys.stderr)
    sys.exit(3)
elif kind == 1:
    time.sleep(120)  # hangs past the trial timeout
elif kind == 2:
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does
elif kind == 3:
    print("loss=nan")
elif kind == 4:
    print("loss=banana\n\x00\xff garbage \x1b[31m")
elif kind == 5:
    print("training done, but no metric line")
elif kind == 6:
    line = "x" * 1023 + "\n"
    for _ in range(100 * 1024):  # 100 MB of log lines
        sys.stdout.write(line)
    sys.stdout.write("y" * (32 << 20))  # and a 32 MB "line" without a newline
    print("\nloss=0.5")
else:
    print("loss=0.25")
