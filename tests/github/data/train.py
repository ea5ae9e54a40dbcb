"""A tiny trial script for the end-to-end tests: SageMaker-style --name=value arguments in,
``loss=<value>`` on stdout out (scraped by the spec's regex)."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--depth", type=int, required=True)
parser.add_argument("--kind", required=True)
args = parser.parse_args()

loss = (args.x - 1.0) ** 2 + 0.1 * args.depth + (0.5 if args.kind == "b" else 0.0)
print(f"epoch=1 loss={loss + 1.0}")
print(f"loss={loss}")
