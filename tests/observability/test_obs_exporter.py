"""The exporter scraped over HTTP on 127.0.0.1 while a real local job runs real trial
processes; the output is parsed with prometheus_client's text-format parser."""

from __future__ import annotations

import time
import urllib.request

import pytest
from obs_helpers import script_spec
from prometheus_client.parser import text_string_to_metric_families

from pipetune import get_backend, load_spec
from pipetune.observability.convergence import parse_time
from pipetune.observability.cost import estimate_cost
from pipetune.observability.exporter import render, serve


def parse(text: str) -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(url, timeout=20) as resp:
        assert resp.status == 200
        return parse(resp.read().decode())


def value(samples, name, **labels):
    for (n, lbl), v in samples.items():
        if n == name and all(dict(lbl).get(k) == w for k, w in labels.items()):
            return v
    return None


def test_exporter_follows_a_running_local_job(home):
    be = get_backend("local")
    spec = load_spec(script_spec(
        "obs_sleepy.py", static={"sleep": 0.8}, budget={"max_trials": 5, "max_parallel": 2},
        cost={"cpu_hour_usd": 3.6}))
    ref = be.launch(spec, "watched")  # detached: a coordinator process runs the trials
    seen_running, costs = False, []
    with serve(["watched"], port=0) as exporter:
        assert exporter.url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            s = scrape(exporter.url)
            assert value(s, "pipetune_job_up", pipetune_job="watched", backend="local") == 1
            running = value(s, "pipetune_trials", pipetune_job="watched", state="running")
            seen_running |= running >= 1
            cost = value(s, "pipetune_estimated_cost_usd", pipetune_job="watched")
            complete = value(s, "pipetune_trials", pipetune_job="watched", state="complete")
            if running >= 1 and complete == 0:
                costs.append(cost)
            if value(s, "pipetune_job_state", pipetune_job="watched", state="completed") == 1:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the job did not complete in time")
        final = scrape(exporter.url)
    assert seen_running, "no scrape saw a running trial"
    # before any trial finished, the running ones were counted with their time so far
    assert costs and max(costs) > 0
    final_cost = value(final, "pipetune_estimated_cost_usd", pipetune_job="watched")

    records = be.trials(ref)
    for state in ("complete", "failed", "pruned", "infeasible", "running"):
        expected = sum(1 for r in records if r.state == state)
        assert value(final, "pipetune_trials", pipetune_job="watched", state=state) == expected
    assert value(final, "pipetune_trials", pipetune_job="watched", state="complete") == 5
    assert value(final, "pipetune_max_trials", pipetune_job="watched") == 5
    best = be.best(ref)
    assert value(final, "pipetune_best_objective", pipetune_job="watched", objective="loss",
                 goal="minimize") == pytest.approx(best.value)
    # the cost: CPU-seconds of the trials (one CPU each) at $3.6 per CPU-hour
    cpu_seconds = sum(r.duration_seconds for r in records)
    assert value(final, "pipetune_compute_seconds", pipetune_job="watched", unit="CPU-seconds") == \
        pytest.approx(cpu_seconds, abs=0.01)
    assert value(final, "pipetune_estimated_cost_usd", pipetune_job="watched") == \
        pytest.approx(cpu_seconds * 3.6 / 3600, abs=1e-5)
    assert estimate_cost(ref).usd == pytest.approx(final_cost, abs=1e-5)
    # last improvement: the best trial (first to reach the best value) finished then
    winner = min((r for r in records if r.state == "complete"),
                 key=lambda r: (r.metrics["loss"], parse_time(r.finished_at)))
    since = value(final, "pipetune_seconds_since_improvement", pipetune_job="watched")
    assert since == pytest.approx(time.time() - parse_time(winner.finished_at), abs=5)
    # five trials are fewer than min_trials (20): not judged, so not flagged
    assert value(final, "pipetune_not_converging", pipetune_job="watched") == 0
    assert value(final, "pipetune_convergence_progress", pipetune_job="watched") is None


def test_an_unreadable_job_is_down_and_does_not_hide_the_others(home):
    be = get_backend("local")
    be.launch(load_spec(script_spec("obs_sleepy.py", budget={"max_trials": 2})), "fine",
              detach=False)
    samples = parse(render(["fine", "never-launched"]))
    assert value(samples, "pipetune_job_up", pipetune_job="never-launched") == 0
    assert value(samples, "pipetune_job_up", pipetune_job="fine") == 1
    assert value(samples, "pipetune_trials", pipetune_job="fine", state="complete") == 2
    assert value(samples, "pipetune_trials", pipetune_job="never-launched", state="complete") is None


def test_exporter_cli_serves_metrics_and_rejects_bad_input(home):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    be = get_backend("local")
    be.launch(load_spec(script_spec("obs_sleepy.py", budget={"max_trials": 2})), "done",
              detach=False)
    pipetune = str(Path(sys.executable).parent / "pipetune")
    env = dict(os.environ)
    bad = subprocess.run([pipetune, "exporter", "--job", "no/such", "--port", "0"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "invalid job name" in bad.stderr
    assert "Traceback" not in bad.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([pipetune, "exporter", "--job", "done", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                samples = scrape(f"http://127.0.0.1:{port}/metrics")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"exporter did not come up: {proc.stderr.read() if proc.poll() is not None else ''}")
                time.sleep(0.2)
        assert value(samples, "pipetune_trials", pipetune_job="done", state="complete") == 2
        assert value(samples, "pipetune_job_state", pipetune_job="done", state="completed") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_push_sends_the_metrics_to_a_pushgateway(home, httpserver):
    """A short pipeline step pushes instead of being scraped (pytest-httpserver stands in
    for the Pushgateway's HTTP API)."""
    from pipetune.observability.exporter import push

    be = get_backend("local")
    be.launch(load_spec(script_spec("obs_sleepy.py", budget={"max_trials": 2})), "pushed",
              detach=False)
    httpserver.expect_request("/metrics/job/nightly-dag", method="PUT").respond_with_data("")
    push(["pushed"], f"http://127.0.0.1:{httpserver.port}", grouping_job="nightly-dag")
    (request, _response), = httpserver.log
    samples = parse(request.get_data(as_text=True))
    assert value(samples, "pipetune_trials", pipetune_job="pushed", state="complete") == 2
    assert value(samples, "pipetune_job_state", pipetune_job="pushed", state="completed") == 1
