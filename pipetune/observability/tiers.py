"""Tiered budgets: dev, staging and prod profiles in one spec, chosen by a flag.

"Tiered tuning" spends little where a result only has to prove the pipeline works (dev: a
handful of trials on a small instance) and the full budget where the model ships (prod).
A spec keeps one ``profiles:`` section; each profile holds overrides merged into the spec
(mappings merged key by key, lists and values replaced). The top-level values are the
defaults a profile changes. Choose one with ``pipetune tune --profile prod``, the
``PIPETUNE_PROFILE`` environment variable, or ``profile:`` in the spec, in that order.

Every profile is validated with the spec: an error names ``profiles.<name>.<field>``.

Example:
    >>> from pipetune.spec import load_spec
    >>> spec = load_spec({
    ...     "parameters": [{"name": "lr", "type": "continuous", "min": 1e-4, "max": 1e-1}],
    ...     "objectives": [{"metric": "auc"}],
    ...     "metrics": [{"name": "auc", "regex": "auc=([0-9.]+)"}],
    ...     "trial": {"command": ["python", "train.py"]},
    ...     "budget": {"max_trials": 4},
    ...     "profiles": {"dev": {"budget": {"max_trials": 2, "max_cost_usd": 1}},
    ...                  "prod": {"budget": {"max_trials": 60, "max_parallel": 4}}},
    ... })
    >>> prod = select_profile(spec, "prod")
    >>> prod.profile, prod.budget.max_trials, prod.budget.max_parallel, prod.profiles
    ('prod', 60, 4, None)
"""

from __future__ import annotations

import copy
import os
import re
from typing import TYPE_CHECKING, Any, Mapping

from pipetune.errors import SpecError

if TYPE_CHECKING:
    from pipetune.spec import TuningSpec

PROFILE_ENV = "PIPETUNE_PROFILE"
PROFILE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
_NOT_OVERRIDABLE = ("profiles", "profile")


def merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in: mappings key by key, everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolved_body(spec_body: dict[str, Any], name: str, overrides: Mapping[str, Any]) -> dict:
    base = {k: v for k, v in spec_body.items() if k not in _NOT_OVERRIDABLE}
    body = merge(base, overrides)
    body["profile"] = name
    return body


def profile_problems(spec: "TuningSpec") -> list[tuple[str, str]]:
    """Every problem of the ``profiles`` section as ``(field, message)`` pairs (none: [])."""
    from pydantic import ValidationError

    from pipetune.spec import TuningSpec, _convert

    problems: list[tuple[str, str]] = []
    profiles = spec.profiles
    if profiles is None:
        return problems
    if not profiles:
        return [("profiles", "is empty; remove it or add profiles such as dev and prod")]
    body = spec.model_dump(mode="json", exclude_none=True)
    for name, overrides in profiles.items():
        where = f"profiles.{name}"
        if not PROFILE_NAME_RE.match(name):
            problems.append((where, "a profile name starts with a letter and holds letters, "
                             "digits, '_' or '-'"))
            continue
        bad = [k for k in overrides if k in _NOT_OVERRIDABLE]
        if bad:
            problems.append((f"{where}.{bad[0]}", "a profile cannot set profiles or profile"))
            continue
        try:
            TuningSpec.model_validate(_resolved_body(body, name, overrides))
        except ValidationError as exc:
            problems.extend((f"{where}.{field}", msg) for field, msg in _convert(exc).problems)
    if spec.profile is not None and spec.profile not in profiles:
        problems.append(("profile", f"no profile {spec.profile!r}; valid: {', '.join(profiles)}"))
    return problems


def select_profile(spec: "TuningSpec", name: str | None = None,
                   env: Mapping[str, str] | None = None) -> "TuningSpec":
    """The spec as profile ``name`` (else ``$PIPETUNE_PROFILE``, else ``spec.profile``) makes it.

    The result has no ``profiles`` section and records the profile in ``profile``, so the job
    stores exactly what it runs. A spec without profiles is returned unchanged (an explicit
    ``name`` other than its recorded profile is an error).
    """
    env = os.environ if env is None else env
    chosen = name or env.get(PROFILE_ENV) or spec.profile
    if spec.profiles is None:
        if name and name != spec.profile:
            raise SpecError(f"no profiles section in the spec to choose {name!r} from; add "
                            "profiles: {dev: {...}, prod: {...}}", field="profile")
        return spec
    if chosen is None:
        return spec
    if chosen not in spec.profiles:
        source = "--profile" if name else (PROFILE_ENV if env.get(PROFILE_ENV) else "profile")
        raise SpecError(f"no profile {chosen!r} (from {source}); valid: "
                        f"{', '.join(spec.profiles)}", field="profile")
    from pipetune.spec import load_spec

    return load_spec(_resolved_body(spec.to_dict(), chosen, spec.profiles[chosen]))
