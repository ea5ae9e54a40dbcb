"""Trial: loss = (x - 0.5)^2 + n/10 (+1 for kind b); prints intermediate values per step."""
import sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
x, n, kind = float(args["x"]), int(args["n"]), args["kind"]
loss = (x - 0.5) ** 2 + n / 10 + (1.0 if kind == "b" else 0.0)
for step in range(3, 0, -1):
    print(f"step loss={loss + step:.6f}", flush=True)
print(f"final loss={loss:.6f}")
