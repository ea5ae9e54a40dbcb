"""A corpus of hostile specs: each one a document a user (or an attacker) could hand to
``pipetune lint``, ``tune`` or ``launch``, and the field its error must name.

Every class of issue 18 is here: YAML bombs, nesting and size in every section, duplicate
keys; values that crashed the coordinator (seeds, ranges, budgets); validation gaps (NaN,
booleans, channel names); storage URLs (unknown scheme, missing driver, missing folder,
unreachable host); rich markup in user text; profiles; plus the ordinary mistakes.

A case is ``Case(id, text, field)``: ``text`` is the file's content (YAML or JSON), ``field``
a string the error message must contain (the field, or the literal user text that must
survive printing). ``suffix`` picks the file name's extension.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import yaml

PY = sys.executable


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    field: str
    suffix: str = ".yaml"


def base() -> dict[str, Any]:
    """A valid spec (every case breaks one thing in it)."""
    return {
        "parameters": [{"name": "lr", "type": "continuous", "min": 0.001, "max": 0.1,
                        "scaling": "log"},
                       {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]}],
        "objectives": [{"metric": "acc", "goal": "maximize"}],
        "metrics": [{"name": "acc", "regex": "acc=([0-9.]+)"}],
        "trial": {"command": [PY, "-c", "print('acc=0.5')"]},
        "budget": {"max_trials": 4},
    }


def _yaml(body: dict[str, Any]) -> str:
    return yaml.safe_dump(body, sort_keys=False, width=10**9)


def spec(field: str, id: str, path: str | None = None, value: Any = None, *,
         delete: bool = False, **top: Any) -> Case:
    """The base spec with ``path`` (dotted, ``[i]`` for lists) set to ``value`` and any
    top-level fields replaced."""
    body = base()
    body.update(top)
    if path is not None:
        node: Any = body
        parts = path.replace("[", ".[").split(".")
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
        last = parts[-1]
        key: Any = int(last[1:-1]) if last.startswith("[") else last
        if delete:
            del node[key]
        else:
            node[key] = value
    return Case(id, _yaml(body), field)


def json_case(field: str, id: str, body: dict[str, Any]) -> Case:
    return Case(id, json.dumps(body), field, ".json")


def bomb(section_yaml: str) -> str:
    """Nine levels of ten aliases each: 10**9 values once expanded."""
    lines = ["  l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return section_yaml + ":\n" + "\n".join(lines) + "\n"


def with_section(section: str, body_yaml: str) -> str:
    """The base spec (without ``section``) followed by ``body_yaml``."""
    b = base()
    b.pop(section, None)
    return _yaml(b) + body_yaml


def deep(section: str, levels: int = 20_000, style: str = "flow") -> str:
    if style == "flow":
        return f"{section}: " + "[" * levels + "]" * levels + "\n"
    if style == "flow_map":
        return f"{section}: " + "{a: " * levels + "1" + "}" * levels + "\n"
    return f"{section}:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels)) \
        + "  " * (levels + 1) + "v\n"


def _categorical(n: int) -> str:
    body = base()
    body["parameters"][1]["values"] = list(range(n))
    return json.dumps(body)


SECTIONS = ["parameters", "static", "trial", "sagemaker", "vertex", "profiles", "budget",
            "metrics"]
BIG = 2**70

CASES: list[Case] = []

# ---- YAML budgets: alias bombs, nesting, size, in every section ----------------------------
CASES += [Case(f"bomb_{s}", with_section(s, bomb(s)), s) for s in SECTIONS]
CASES += [Case("bomb_top_level", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
    for i in range(8)), "spec")]
CASES += [Case(f"deep_flow_{s}", with_section(s, deep(s)), s) for s in SECTIONS]
CASES += [Case(f"deep_map_{s}", with_section(s, deep(s, style="flow_map")), s)
          for s in ("sagemaker", "vertex", "profiles", "static")]
CASES += [Case(f"deep_block_{s}", with_section(s, deep(s, 60, "block")), s)
          for s in ("sagemaker", "vertex", "profiles", "trial")]
CASES += [
    Case("deep_json", '{"vertex": ' + "[" * 20_000 + "]" * 20_000 + "}", "vertex", ".json"),
    Case("deep_json_objects", '{"sagemaker": ' + '{"a": ' * 20_000 + "1" + "}" * 20_000 + "}",
         "sagemaker", ".json"),
    Case("huge_categorical_3_5_million", _categorical(3_500_000), "bytes", ".json"),
    Case("categorical_20k_values", _categorical(20_000), "parameters[1].values", ".json"),
    spec("parameters[0].values", "discrete_20k_values", "parameters[0]",
         {"name": "b", "type": "discrete", "values": list(range(20_000))}),
    Case("recursive_alias_static", with_section("static", "static: &a [*a]\n"), "static"),
    Case("recursive_alias_sagemaker", with_section("sagemaker", "sagemaker: &a {x: *a}\n"),
         "sagemaker"),
    Case("recursive_alias_profiles", with_section("profiles", "profiles: &p {dev: {a: [*p]}}\n"),
         "profiles"),
    Case("document_over_1mb", _yaml(base()) + "# " + "x" * 1_100_000 + "\n", "bytes"),
]

# ---- duplicate keys (the last one silently won) ---------------------------------------------
CASES += [
    Case("dup_top_level", _yaml(base()) + "budget: {max_trials: 9}\n", "'budget'"),
    Case("dup_nested", _yaml({**base(), "budget": {}}).replace(
        "budget: {}", "budget:\n  max_trials: 4\n  max_trials: 400"), "'max_trials'"),
    Case("dup_json", json.dumps(base())[:-1] + ', "budget": {"max_trials": 9}}', "'budget'", ".json"),
    Case("dup_json_nested", json.dumps(base()).replace(
        '"max_trials": 4', '"max_trials": 4, "max_trials": 5'), "'max_trials'", ".json"),
    Case("dup_in_sagemaker", _yaml(base()) + "sagemaker:\n  region: a\n  region: b\n", "'region'"),
    Case("dup_in_profiles", _yaml(base()) + "profiles:\n  dev: {}\n  dev: {}\n", "'dev'"),
    Case("dup_in_env", _yaml(base()).replace("trial:\n", "trial:\n  env: {A: '1', A: '2'}\n"), "'A'"),
]

# ---- malformed documents --------------------------------------------------------------------
CASES += [
    Case("tab_indent", "parameters:\n\t- name: x\n", "spec.yaml"),
    Case("unclosed_flow", "parameters: [\n", "spec.yaml"),
    Case("list_document", "- a\n- b\n", "mapping"),
    Case("scalar_document", "just text\n", "mapping"),
    Case("empty_document", "", "mapping"),
    Case("python_tag", "parameters: !!python/object/apply:os.system ['true']\n", "spec.yaml"),
    Case("nul_byte", "parameters: [a\x00]\n", "spec.yaml"),
    Case("non_text_key", _yaml(base()) + "1: x\n", "field names must be text"),
    Case("complex_key", _yaml(base()) + "? [a, b]\n: x\n", "spec"),
]

# ---- values that crashed the coordinator or hung it -----------------------------------------
CASES += [
    spec("seed", "seed_2_pow_70", "seed", BIG),
    spec("seed", "seed_negative", "seed", -5),
    spec("seed", "seed_float", "seed", 1.5),
    spec("seed", "seed_text", "seed", "abc"),
    spec("proxy.seed", "proxy_seed_huge", "proxy", {"seed": BIG, "data": "d.csv"}),
    spec("parameters[0]", "range_overflows", "parameters[0]",
         {"name": "w", "type": "continuous", "min": -1.7e308, "max": 1.7e308}),
    spec("parameters[0]", "min_inf", "parameters[0]",
         {"name": "w", "type": "continuous", "min": float("-inf"), "max": 1}),
    spec("parameters[0]", "max_nan", "parameters[0]",
         {"name": "w", "type": "continuous", "min": 0, "max": float("nan")}),
    spec("parameters[0]", "int_min_2_pow_70", "parameters[0]",
         {"name": "n", "type": "integer", "min": -BIG, "max": 3}),
    spec("parameters[0]", "int_max_2_pow_70", "parameters[0]",
         {"name": "n", "type": "integer", "min": 0, "max": BIG}),
    spec("parameters[0].step", "int_step_zero", "parameters[0]",
         {"name": "n", "type": "integer", "min": 0, "max": 9, "step": 0}),
    spec("parameters[0]", "continuous_step_tiny", "parameters[0]",
         {"name": "w", "type": "continuous", "min": 0, "max": 1e300, "step": 1e-300},
         strategy="grid"),
    spec("budget.target_value", "target_nan", "budget.target_value", float("nan")),
    spec("budget.target_value", "target_inf", "budget.target_value", float("inf")),
    spec("budget.max_trials", "max_trials_1e30", "budget.max_trials", 1e30),
    spec("budget.max_trials", "max_trials_zero", "budget.max_trials", 0),
    spec("budget.max_trials", "max_trials_ten_million", "budget.max_trials", 10**7),
    spec("budget.max_trials", "max_trials_text", "budget.max_trials", "many"),
    spec("budget.max_parallel", "max_parallel_huge", "budget", {"max_trials": 10, "max_parallel": 10**9}),
    spec("budget", "max_parallel_over_trials", "budget", {"max_trials": 2, "max_parallel": 5}),
    spec("budget.max_failed", "max_failed_huge", "budget.max_failed", 10**12),
    spec("budget.timeout", "timeout_inf", "budget.timeout", float("inf")),
    spec("budget.timeout", "timeout_1e300", "budget.timeout", 1e300),
    spec("budget.trial_timeout", "trial_timeout_negative", "budget.trial_timeout", -1),
    spec("budget.max_cost_usd", "cost_nan", "budget.max_cost_usd", float("nan")),
    spec("budget.no_improvement_trials", "no_improvement_huge", "budget.no_improvement_trials", 10**12),
    spec("trial.grace_period", "grace_period_huge", "trial.grace_period", 1e12),
    spec("early_stopping.max_resource", "max_resource_huge", "early_stopping",
         {"type": "hyperband", "max_resource": 10**12}),
    spec("early_stopping.reduction_factor", "reduction_factor_huge", "early_stopping",
         {"type": "hyperband", "reduction_factor": 10**6}),
    spec("convergence.window", "convergence_window_huge", "convergence", {"window": 10**12}),
    spec("strategy", "grid_of_a_billion", "parameters",
         [{"name": f"p{i}", "type": "integer", "min": 0, "max": 999} for i in range(3)],
         strategy="grid"),
    spec("parameters[1].condition", "grid_with_condition", "parameters",
         [{"name": "opt", "type": "categorical", "values": ["a", "b"]},
          {"name": "m", "type": "discrete", "values": [1, 2],
           "condition": {"parent": "opt", "values": ["a"]}}], strategy="grid"),
]

# ---- validation gaps -------------------------------------------------------------------------
CASES += [
    spec("parameters[0].values", "discrete_true_2", "parameters[0]",
         {"name": "b", "type": "discrete", "values": [True, 2]}),
    spec("parameters[0].values", "discrete_nan", "parameters[0]",
         {"name": "b", "type": "discrete", "values": [float("nan"), 2]}),
    spec("parameters[0].values", "discrete_2_pow_70", "parameters[0]",
         {"name": "b", "type": "discrete", "values": [BIG, 2]}),
    spec("parameters[0].values", "discrete_empty", "parameters[0]",
         {"name": "b", "type": "discrete", "values": []}),
    spec("parameters[1].values", "categorical_nan", "parameters[1].values", ["a", float("nan")]),
    spec("parameters[1].values", "categorical_duplicates", "parameters[1].values", ["a", "a"]),
    spec("static", "static_nan", "static", {"s": float("nan")}),
    spec("trial.channels", "channel_dotdot", "trial.channels", {"../x": "data"}),
    spec("trial.channels", "channel_dot", "trial.channels", {".": "data"}),
    spec("trial.channels", "channel_slash", "trial.channels", {"a/b": "data"}),
    spec("trial.channels", "channel_too_long", "trial.channels", {"c" * 65: "data"}),
    spec("trial.channels", "channel_empty_source", "trial.channels", {"train": ""}),
    spec("trial.env", "env_name_with_equals", "trial.env", {"A=B": "1"}),
    spec("trial.env", "env_name_digit", "trial.env", {"1X": "1"}),
    spec("trial.env", "env_value_nul", "trial.env", {"A": "x\x00y"}),
    spec("trial.secret_env", "secret_env_bad_name", "trial.secret_env", ["a b"]),
    spec("trial.command", "command_nul", "trial.command", [PY, "a\x00b"]),
    spec("trial", "command_empty", "trial.command", []),
    spec("e.g. [python, train.py]", "command_shell_string", "trial.command", "python train.py"),
    spec("trial.contract", "contract_unknown", "trial.contract", "bash"),
    spec("trial", "callable_without_colon", "trial", {"callable": "module.function"}),
    spec("trial.workdir", "workdir_missing", "trial.workdir", "/nonexistent/folder/for/sure"),
    spec("trial.command[0]", "command_not_found", "trial.command", ["no-such-program-h18"]),
]

# ---- storage URLs ----------------------------------------------------------------------------
CASES += [
    spec("storage", "storage_unknown_scheme", storage="redis://cache/0"),
    spec("storage", "storage_postgres_scheme", storage="postgres://db/hpo"),
    spec("storage", "storage_unknown_dialect", storage="oracle+cx://db/hpo"),
    spec("storage", "storage_sqlite_missing_dir", storage="sqlite:////nonexistent/dir/hpo.db"),
    spec("storage", "storage_relative_missing_dir", storage="no-such-folder/journal.log"),
    spec("storage", "storage_mysql_no_driver", storage="mysql://127.0.0.1:9/hpo"),
    spec("storage", "storage_pg8000_no_driver", storage="postgresql+pg8000://127.0.0.1:9/hpo"),
    spec("storage", "storage_unreachable_host", storage="postgresql://tuner:pw@127.0.0.1:9/hpo"),
    spec("storage", "storage_journal_no_path", storage="journal://"),
    spec("storage", "storage_empty", storage=""),
    spec("storage", "storage_nul", storage="sqlite:///a\x00b.db"),
    spec("storage", "storage_bad_scheme_syntax", storage="1x://y"),
]

# ---- user text is not markup -----------------------------------------------------------------
CASES += [
    spec("[bold red]evil", "markup_unknown_field", **{"[bold red]evil": 1}),
    spec("[/x]", "markup_job_name", name="[/x]"),
    spec("[/x]", "markup_parameter_name", "parameters[0].name", "[/x]"),
    spec("[/x]", "markup_objective_metric", "objectives", [{"metric": "[/x]"}]),
    spec("metrics[0].regex", "markup_bad_regex", "metrics[0].regex", "[/x"),
    spec("[/x]", "markup_strategy", strategy="[/x]"),
    spec("[bold]x", "markup_backend", backend="[bold]x"),
    spec(":smile:", "emoji_code_in_value", strategy=":smile:"),
    spec("name", "job_name_traversal", name="../../etc"),
]

# ---- profiles and cloud sections --------------------------------------------------------------
CASES += [
    spec("profiles.dev", "profile_max_trials_1e30", profiles={"dev": {"budget": {"max_trials": 1e30}}}),
    spec("profiles.dev", "profile_seed_huge", profiles={"dev": {"seed": BIG}}),
    spec("profiles", "profiles_empty", profiles={}),
    spec("profiles", "profiles_thousands", profiles={f"p{i}": {} for i in range(5000)}),
    spec("warm_start.parents", "warm_start_many_parents", warm_start={"parents": ["p"] * 1000}),
    spec("profile", "profile_unknown", profiles={"dev": {}}, profile="nope"),
    spec("profiles", "profile_bad_name", profiles={"[x]": {}}),
    spec("sagemaker", "sagemaker_without_role", backend="sagemaker", sagemaker={"region": "us-east-1"}),
    spec("sagemaker.instance_count", "sagemaker_bad_count", backend="sagemaker",
         sagemaker={"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/R",
                    "image": "i", "output_path": "s3://b/o", "instance_count": -3}),
    spec("vertex", "vertex_without_project", backend="vertex", vertex={}),
]

# ---- ordinary mistakes -----------------------------------------------------------------------
CASES += [
    spec("parameters", "no_parameters", "parameters", []),
    spec("objectives", "no_objectives", "objectives", delete=True),
    spec("trial", "no_trial", "trial", delete=True),
    spec("paramters", "typo_top_level", paramters=[]),
    spec("parameters[0].type", "unknown_type", "parameters[0].type", "float"),
    spec("parameters[0]", "log_scale_zero_min", "parameters[0].min", 0),
    spec("parameters[1].name", "duplicate_parameter", "parameters[1].name", "lr"),
    spec("objectives[0].metric", "objective_without_regex", "objectives[0].metric", "loss"),
    spec("metrics[0].regex", "regex_two_groups", "metrics[0].regex", "(a)(b)"),
    spec("strategy", "nsga2_single_objective", strategy="nsga2"),
    spec("static.lr", "static_shadows_parameter", static={"lr": 1}),
    json_case("budget.max_trials", "json_max_trials_1e30", {**base(), "budget": {"max_trials": 1e30}}),
    json_case("seed", "json_seed_negative", {**base(), "seed": -5}),
    json_case("budget.target_value", "json_target_nan_string", {**base(), "budget": {"target_value": "nan"}}),
]


def corpus() -> list[Case]:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return CASES
