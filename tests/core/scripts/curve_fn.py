"""An in-process trial whose best reported value (0.9 at step 1) is not its last (0.6)."""


def peak(params, ctx):
    for step, value in enumerate((0.5, 0.9, 0.7)):
        ctx.report(step, value)
    return {"acc": 0.6}
