"""In-process trial functions for the proxy tests."""

import pyarrow.csv as pacsv

SMALL = 1000  # below this many rows the "best" x is 0, from it on it is 1


def size_dependent(params, ctx):
    """A trial whose best setting flips with the amount of data, like a regularisation
    strength can: on a small sample x near 0 wins, on the full data x near 1 wins. The proxy
    must rank the configurations exactly backwards."""
    rows = pacsv.read_csv(params["data"]).num_rows
    target = 0.0 if rows < SMALL else 1.0
    return {"score": -((params["x"] - target) ** 2), "rows": rows}


def consistent(params, ctx):
    """A trial whose ranking does not depend on the data size."""
    rows = pacsv.read_csv(params["data"]).num_rows
    return {"score": -((params["x"] - 0.3) ** 2), "rows": rows}
