"""A fast trial: minimise (x-1)^2 + (y+2)^2. Options: --fail makes it exit 1; --sleep=S waits."""
import sys
import time

args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
time.sleep(float(args.get("sleep", 0)))
if args.get("fail", "false") == "true":
    print("boom: this trial always fails", file=sys.stderr)
    sys.exit(1)
x, y = float(args["x"]), int(args["y"])
print(f"loss={(x - 1) ** 2 + (y + 2) ** 2}")
