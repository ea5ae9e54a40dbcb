"""Trial: a bowl whose bottom moves with the data set (--shift): loss = (x - shift)^2 +
(log10(lr) + 2)^2 + |depth - 8| / 4 + (0 for kind a, 1 otherwise)."""
import math
import sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
x, lr, depth, kind = float(args["x"]), float(args["lr"]), int(args["depth"]), args["kind"]
shift = float(args["shift"])
loss = (x - shift) ** 2 + (math.log10(lr) + 2) ** 2 + abs(depth - 8) / 4 + (kind != "a")
print(f"loss={loss:.6f}")
