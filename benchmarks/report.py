"""Markdown rendering of a harness result (the dict written by :mod:`benchmarks.run`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:.3e}"
    return str(x)


def _meta(meta: dict[str, Any]) -> list[str]:
    return [f"- command: `{meta['command']}`", f"- date: {meta['date']}",
            f"- machine: {meta['machine']}",
            f"- load average at start / end: {meta['load_start']} / {meta.get('load_end', '—')}",
            f"- versions: {meta['versions']}", f"- wall time: {_f(meta.get('wall_seconds'))} s",
            *[f"- re-run: {r}" for r in meta.get("reruns", [])], ""]


def _overhead(o: dict[str, Any]) -> list[str]:
    s, i, m = o["subprocess"], o["in_process"], o.get("memory")
    out = ["### 1. Engine overhead", "",
           "| measure | pipetune | baseline | ratio | target |", "|---|---|---|---|---|",
           f"| no-op subprocess trials, {s['trials']} trials (ms/trial; baseline: bare spawn) | "
           f"{_f(s['engine_ms_per_trial'])} | {_f(s['bare_spawn_ms_per_trial'])} | "
           f"{_f(s['ratio'])} | ≤ {s['target']} |",
           f"| in-process trials, {i['trials']} trials (ms/trial; baseline: plain Optuna, in-memory) | "
           f"{_f(i['engine_ms_per_trial'])} | {_f(i['plain_optuna_inmemory_ms_per_trial'])} | "
           f"{_f(i['ratio'])} | ≤ {i['target']} |", ""]
    if m:
        out[-1:-1] = []
    return out


def _memory(m: dict[str, Any]) -> list[str]:
    return ["### 5. Coordinator memory", "",
            f"Peak RSS of the coordinator process for a {m['trials']}-trial job of no-op subprocess "
            f"trials: **{_f(m['peak_rss_mb'])} MB** (target ≤ {m['target_mb']} MB; job took "
            f"{_f(m['seconds'])} s).", ""]


def _search(sq: dict[str, Any]) -> list[str]:
    plan, summ = sq["plan"], sq["summary"]
    cs = plan["contenders"]
    bbob = (f"BBOB functions {plan['functions'][0]}..{plan['functions'][-1]} "
            f"({len(plan['functions'])}), dimensions → "
            + (f"instances {plan['instances']}; " if "instances" in plan else
               f"seeds (= instances) {plan['dims']}; ")
            + f"budgets {plan.get('bbob_budgets', plan['budgets'])}; "
            if plan["functions"] else "No BBOB; ")
    noisy = sorted(p for p, t in sq.get("problem_tags", {}).items() if "sklearn/noisy" in t)
    out = ["### 2. Search quality", "",
           bbob + f"scikit-learn tasks {plan['tasks']} × {plan['task_seeds']} seeds"
           + (f" {plan['task_seed_list']}" if plan.get("task_seed_list") else "") + ", budgets "
           f"{plan['budgets']}; {plan['runs_per_contender']} runs per contender.", "",
           *([f"Noisy tasks ({', '.join(noisy)}): a run is scored by the noise-free value "
              "(mean over fixed seeds no tuner saw) of the trial it recommends, its best "
              "observed trial, not by its best noisy draw.", ""] if noisy else []),
           *([f"Not run: {sq['unavailable']}", ""] if sq.get("unavailable") else []),
           "`auto` resolved to: " + ("; ".join(f"{k}: {len(v)} problems"
                                               for k, v in sq["auto_resolved"].items())
                                     or "(not run)"), ""]
    head = "| group | problems | " + " | ".join(f"{c} rank / mean regret" for c in cs) + " |"
    out += [head, "|" + "---|" * (2 + len(cs))]
    for g, s in summ.items():
        out.append(f"| {g} | {s['problems']} | " + " | ".join(
            f"{_f(s['mean_rank'][c])} / {_f(s['mean_regret'][c])}" for c in cs) + " |")
    beats = [(g, s["beats_random"]) for g, s in summ.items() if "beats_random" in s]
    if beats:
        rest = [c for c in cs if c != "random"]
        out += ["", "Beats random: (function, dimension)-pair-budgets (a scikit-learn task is "
                "one pair) whose median Δf over the instances is strictly below random's, "
                "per group (target for `auto`: ≥ 95% in every group).", "",
                "| group | pairs | " + " | ".join(rest) + " |", "|" + "---|" * (2 + len(rest))]
        for g, b in beats:
            out.append(f"| {g} | {b[rest[0]]['pairs']} | " + " | ".join(
                f"{b[c]['wins']} = {100 * b[c]['rate']:.1f}%" for c in rest) + " |")
    if "auto" not in cs:
        return out
    others = [c for c in cs if c != "auto"]
    out += ["", "Win / tie / loss of `auto` per problem and budget, on the **median over seeds of "
            "Δf = best − f\\*** (Δf < 1e-8 = solved = 0; equal medians tie). In brackets: "
            "significant wins / losses (one-sided Mann–Whitney U over the seeds, p < 0.05). "
            "After the arrow: the earlier criterion (|Δ mean normalised regret| ≤ 0.001 ties).", "",
            "| group | problems | seeds | " + " | ".join(f"vs {c}" for c in others) + " |",
            "|" + "---|" * (3 + len(others))]
    for g, s in summ.items():
        if "win_tie_loss_regret" not in s:  # a result scored before 2026-11-30 evening
            continue
        out.append(f"| {g} | {s['problems']} | {','.join(map(str, s.get('seeds', [])))} | " + " | ".join(
            "/".join(map(str, s["win_tie_loss"][f"auto vs {c}"]))
            + " ({}/{})".format(*s["significant"][f"auto vs {c}"])
            + " → " + "/".join(map(str, s["win_tie_loss_regret"][f"auto vs {c}"]))
            for c in others) + " |")
    if "all" in summ:
        w, t, l = summ["all"]["win_tie_loss"].get("auto vs random", [0, 0, 0])
        n = summ["all"]["problems"]
        if n:
            out += ["", f"`auto` beats random on {w}/{n} = {100 * w / n:.1f}% of problem-budgets "
                    f"(target ≥ 90%), ties {t}, loses {l}."]
    allp = [g for g in summ if g.startswith("all@")] + (["all"] if "all" in summ else [])
    out += ["", "Other pairs (all problems and budgets):", ""]
    if "all" in summ:
        for pair, wtl in summ["all"]["win_tie_loss"].items():
            a, b = pair.split(" vs ")
            if a != "auto" and cs.index(a) < cs.index(b):
                out.append(f"- {pair}: {wtl[0]}/{wtl[1]}/{wtl[2]}")
    timed = sq.get("tuner_runs_timed", {})
    out += ["", "Tuner time (s, summed over the timed runs; runs reused from an older result "
            "may lack it): " + ", ".join(
                f"{c} {_f(v)}" + (f" over {timed[c]} runs" if c in timed else "")
                for c, v in sq.get("tuner_seconds", {}).items()), ""]
    del allp
    return out


def _parallel(p: dict[str, Any]) -> list[str]:
    r, s = p["regret"], p["speedup"]
    return ["### 3. Parallelism", "",
            f"Regret: `auto` ({', '.join(r['strategy_resolved'])}) on {r['problems']} × {r['seeds']} "
            f"seeds, {r['budget']} trials.", "",
            "| max_parallel | mean regret | ratio to sequential | wall (s), sleep-bound | speed-up |",
            "|---|---|---|---|---|"] + [
            f"| {k} | {_f(r['mean_regret'][k])} | {_f(r['regret_ratio_to_sequential'][k])} | "
            f"{_f(s['wall_seconds'][k])} (ideal {_f(s['ideal_seconds'][k])}) | {_f(s['speedup'][k])}× |"
            for k in r["mean_regret"]] + [
            "", f"Speed-up job: {s['problem']}, {s['trials']} trials sleeping {s['sleep_seconds']} s "
            f"each, strategy {', '.join(s['strategy_resolved'])}. Targets at 10: regret ratio ≤ "
            f"{r['target_ratio']}, speed-up ≥ {s['target_speedup_at_10']}×.", ""]


def _early(e: dict[str, Any]) -> list[str]:
    learner = e.get("learner", "MLPClassifier on digits")
    out = ["### 4. Early stopping", "",
           f"{learner}; {e['seeds']} seeds × {e['trials']} trials × up to {e['epochs']} epochs, "
           f"TPE in every mode. Target per seed = best final accuracy without early stopping − "
           f"{e['tolerance']}. Medians over seeds (a seed that never reaches the target counts "
           "as a saving of 0).", "",
           "| mode | seeds reaching target | epochs to target | saving to target | total epochs | "
           "total saving | best final accuracy | Δ vs none |", "|---|---|---|---|---|---|---|---|"]
    for m, s in e["summary"].items():
        out.append(f"| {m} | {s['seeds_reaching_target']}/{e['seeds']} | "
                   f"{_f(s.get('median_epochs_to_target'))} | "
                   f"{_f(s['median_epoch_saving_to_target'])}× | "
                   f"{_f(s.get('median_total_epochs', s.get('mean_total_epochs')))} | "
                   f"{_f(s['median_total_epoch_saving'])}× | "
                   f"{_f(s.get('median_best_final', s.get('mean_best_final')), 4)} | "
                   f"{_f(s.get('median_best_final_minus_none'), 2)} |")
    out += ["", f"Per seed (epochs to target, {' / '.join(e['summary'])}):", ""]
    for r in e["per_seed"]:
        out.append(f"- seed {r['seed']} (target {_f(r['target'], 4)}): " + " / ".join(
            _f(r[m]["epochs_to_target"]) for m in e["summary"]))
    return out + ["", f"Target: ≥ {e['target_saving']}× fewer epochs at equal final score.", ""]


def _entry_points(e: dict[str, Any]) -> list[str]:
    out = ["### 6. Every entry point, flatness, reads (issue 19)", "",
           f"Load average before / after: {e.get('load_before')} / {e.get('load_after')}", ""]
    sizes = [k for k in e.get("paths", {}) if k.isdigit()]
    if sizes:
        out += ["| no-op subprocess trials | trials | wall ms/trial | CPU ms/trial | wall vs bare "
                "| CPU vs bare | wall vs Optuna journal |", "|---|---|---|---|---|---|---|"]
        for n in sizes:
            for name, f in e["paths"][n].items():
                out.append(f"| {name} | {n} | {_f(f['wall_ms_per_trial'])} | {_f(f['cpu_ms_per_trial'])} "
                           f"| {_f(f['wall_vs_bare'])} | {_f(f['cpu_vs_bare'])} "
                           f"| {_f(f['wall_vs_optuna_journal'])} |")
        a = e["paths"]["airflow_operator"]
        out += ["", f"Airflow operator under `dag.test()`, marginal per trial between {a['trials'][0]} "
                f"and {a['trials'][1]} trials: {_f(a['marginal_wall_ms_per_trial'])} ms "
                f"({_f(a['wall_vs_bare'])}x a bare spawn).", ""]
    if "under_load" in e:
        u = e["under_load"]
        out += [f"With the second core busy ({u['trials']} trials), wall vs plain Optuna on its journal "
                "in this process / as a script: "
                + ", ".join(f"{k} {_f(v['wall_vs_optuna_journal'])}x / {_f(v['wall_vs_optuna_journal_script'])}x"
                            for k, v in u.items() if isinstance(v, dict)) + " (target: CLI ≤ 1.0x).", ""]
    if "flat" in e:
        fl = e["flat"]
        out += [f"{fl['trials']}-trial in-process job (random): last decile {_f(fl['last_decile_ms'])} ms "
                f"vs first {_f(fl['first_decile_ms'])} ms per trial = **{_f(fl['last_vs_first'])}x** "
                f"(target ≤ {fl['target']})."]
        for key, v in fl.items():
            if isinstance(v, dict) and "ratio" in v:
                out.append(f"- {key}: engine {_f(v['engine_ms_per_trial'])} vs Optuna in memory "
                           f"{_f(v['optuna_inmemory_ms_per_trial'])} ms/trial = **{_f(v['ratio'])}x** "
                           f"(target ≤ {v['target']})")
        out.append("")
    if "marginal" in e.get("paths", {}):
        out += ["Per trial without the fixed start (between the two sizes): "
                + ", ".join(f"{k} {_f(v['wall_ms_per_trial'])} ms = {_f(v['wall_vs_bare'])}x bare "
                            f"(fixed {_f(v['fixed_s'])} s)" for k, v in e["paths"]["marginal"].items())
                + ".", ""]
    if "reads" in e:
        commands = {k: v for k, v in e["reads"].items() if "seconds" in v}
        out += ["Reads on that job, as commands: " + ", ".join(f"`{k}` {_f(v['seconds'])} s"
                                                                for k, v in commands.items())
                + " (target < 0.5 s each)."]
        if "in_process" in e["reads"]:
            out += ["In a process that has imported pipetune (first read, then again): "
                    + ", ".join(f"`{k}` {_f(v['first_s'])} / {_f(v['again_s'])} s"
                                for k, v in e["reads"]["in_process"].items()) + "."]
    if "running_reads" in e:
        r = e["running_reads"]
        out += [f"The same commands on a job still running ({r['trials_complete']} trials done): "
                + ", ".join(f"`{k}` {_f(v['seconds'])} s" for k, v in r.items() if isinstance(v, dict))
                + " (target < 0.5 s each)."]
    if "polling" in e:
        p = e["polling"]
        out += [f"A sensor-like poller (one process, `status` every second) added {_f(100 * p['added'])}% "
                f"to a {p['trials']}-trial job's run time (target < 5%); a new `pipetune status` "
                f"process every second added {_f(100 * p['cli_process_added'])}%."]
    if "memory" in e:
        m = e["memory"]
        out += [f"Peak RSS of `pipetune tune` over {m['trials']} trials: **{_f(m['peak_rss_mb'])} MB** "
                f"(target ≤ {m['target_mb']} MB)."]
    if "floors" in e:
        d, s = e["floors"]["durability"], e["floors"]["start"]
        out += ["", f"Floors (no design beats these here): Optuna in memory plus one flock'd append "
                f"per storage write costs {_f(d['inmemory_plus_appends_ms_per_trial'])} ms a trial against "
                f"{_f(d['optuna_inmemory_ms_per_trial'])} ms in memory = **{_f(d['ratio'])}x** (the engine's "
                f"target: ≤ {d['engine_target']}x); " + ", ".join(f"`{k}` {_f(v)} s" for k, v in s["seconds"].items())
                + f", against a start budget of {_f(s['start_budget_s'])} s for a {s['bare_spawn_trials']}-trial "
                f"CLI run (0.15x its bare loop): `import optuna` alone is **{_f(s['import_optuna_vs_budget'])}x** it."]
    return out + [""]


def markdown(result: dict[str, Any]) -> str:
    """The whole result as a markdown section."""
    lines = ["## Benchmark harness results", ""] + _meta(result["meta"])
    if "overhead" in result:
        lines += _overhead(result["overhead"])
    if "search_quality" in result:
        lines += _search(result["search_quality"])
    if "parallelism" in result:
        lines += _parallel(result["parallelism"])
    if "early_stopping" in result:
        lines += _early(result["early_stopping"])
    if "memory" in result:
        lines += _memory(result["memory"])
    if "entry_points" in result:
        lines += _entry_points(result["entry_points"])
    return "\n".join(lines) + "\n"


def emit_json(result: dict[str, Any], out: "str | Path | None") -> None:
    """Print a benchmark's result as indented JSON; with ``out``, also write it there."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        Path(out).write_text(text + "\n")


def emit(result: dict[str, Any], text: str, out: str | None) -> None:
    """Print a benchmark's markdown; with ``out``, also write the result as JSON there and
    the markdown beside it (``.md``)."""
    if out:
        path = Path(out)
        path.write_text(json.dumps(result, indent=2) + "\n")
        path.with_suffix(".md").write_text(text + "\n")
    print(text)
