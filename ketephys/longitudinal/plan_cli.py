"""``ketephys plan``: the recommended visit schedule, expected CIs and power, and a figure.

Input is a YAML file, flags, or both (flags win)::

    scenario: default            # or regions: {PFC: {tau_h: 108, amplitude: 0.4, ...}}
    visits_h: [2, 24, 72, 168, 336]
    n_baseline: 1
    n_subjects: 20               # or arms: [{name: low, n_subjects: 10, dose_mg_per_kg: 0.5}]
    constraints: {n_visits: 5, earliest_h: 2, latest_h: 336, min_spacing_h: 24,
                  working_hours: {start: 9, end: 17, dose_clock: 9}}
    criterion: mean_rse_tau      # D | mean_rse_tau | max_rse_tau
    comparisons: ["STR>PFC"]     # or {kind: dose, region: PFC, a: 1.0, b: 0.5}
    max_rse: 0.2                 # sample size for SE(log tau) <= 0.2, or target_power: 0.8
    simulate: 0                  # simulated studies checking the recommended design

Errors in the input are :class:`~ketephys.errors.ConfigError` naming the file and field.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._check import check_option, suggest
from ..errors import AnalysisError, ConfigError, KetephysError, SettingsError
from ._subcommand import report_bad_input, subcommand_registrar

__all__ = ["register", "run", "load_plan_config", "build_plan_inputs"]

_KEYS = {"scenario", "regions", "visits_h", "n_baseline", "n_subjects", "arms", "constraints",
         "criterion", "comparisons", "max_rse", "target_power", "simulate", "allocation",
         "n_starts", "seed", "dose_ref_mg_per_kg", "figure"}
_REGION_KEYS = {"tau_h", "amplitude", "sd_log_amplitude", "sd_log_tau", "baseline_sd",
                "residual_sd", "kernel", "rise_fraction", "dose_amp_exponent",
                "dose_tau_exponent", "log_met_amp", "log_met_tau"}
_CONSTRAINT_KEYS = {"n_visits", "earliest_h", "latest_h", "min_spacing_h", "windows",
                    "working_hours"}


def _unknown(keys: Any, known: set[str], where: str, path: Any) -> None:
    for key in keys:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}{suggest(str(key), known)}; "
                              f"known: {sorted(known)}", path)


def _read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError("plan file not found", path)
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path) from exc
    if not isinstance(cfg, dict):
        raise ConfigError("the plan file must be a mapping of keys", path)
    return cfg


def load_plan_config(path: str | Path) -> dict[str, Any]:
    """Read and check a plan YAML file.

    Parameters
    ----------
    path : str or Path
        The plan file (format in the module docstring).

    Returns
    -------
    dict
        The inputs of :func:`~ketephys.longitudinal.plan_study` (see
        :func:`build_plan_inputs`).

    Raises
    ------
    ConfigError
        Naming the file and the field: missing file, bad YAML, unknown key, bad value.
    """
    return build_plan_inputs(_read_yaml(path), path)


def _as_float_list(value: Any, field: str, path: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{field}: expected a list of numbers, got {value!r}",
                          path) from exc


def _comparison(spec: Any, path: Any):
    from .planning import Comparison

    if isinstance(spec, dict):
        try:
            return Comparison(**spec)
        except TypeError as exc:
            raise ConfigError(f"comparisons: {exc}", path) from exc
    text = str(spec).replace(" ", "")
    for sym, alt in ((">", "greater"), ("<", "less"), ("-", "two-sided")):
        if sym in text:
            a, b = text.split(sym, 1)
            return Comparison("regions", a, b, alternative=alt)
    if text.startswith("genotype:"):
        return Comparison("genotype", region=text.split(":", 1)[1])
    if text.startswith("dose:"):
        parts = text.split(":")
        if len(parts) == 4:
            return Comparison("dose", float(parts[2]), float(parts[3]), region=parts[1])
    raise ConfigError(f"comparisons: cannot read {spec!r}; use 'STR>PFC', 'STR-PFC' "
                      "(two-sided), 'genotype:PFC' or 'dose:PFC:1.0:0.5'", path)


def _regions_of(cfg: dict[str, Any], path: Any) -> list[Any]:
    """The region models: typed in (``regions``) or from a ``scenario``."""
    from .planning import RegionModel, regions_from_scenario

    if cfg.get("regions"):
        regs = cfg["regions"]
        if not isinstance(regs, dict):
            raise ConfigError("regions: expected a mapping name -> {tau_h, amplitude, ...}",
                              path)
        regions = []
        for name, spec in regs.items():
            spec = dict(spec or {})
            _unknown(spec, _REGION_KEYS, f"regions.{name}", path)
            if "tau_h" not in spec or "amplitude" not in spec:
                raise ConfigError(f"regions.{name}: needs tau_h and amplitude", path)
            regions.append(RegionModel(str(name), **spec))
        return regions
    if "scenario" in cfg:
        return list(regions_from_scenario(cfg["scenario"]))
    raise ConfigError("plan: give 'regions' (name -> tau_h, amplitude, ...) or "
                      "'scenario' (e.g. default)", path)


def _arms_of(cfg: dict[str, Any], path: Any) -> list[Any]:
    """The arms (``arms``, or one arm of ``n_subjects``)."""
    from .planning import Arm

    if not cfg.get("arms"):
        return [Arm(n_subjects=int(cfg.get("n_subjects", 20)))]
    arms = []
    for spec in cfg["arms"]:
        spec = dict(spec)
        if "times" in spec:
            spec["times"] = _as_float_list(spec["times"], "arms.times", path)
        arms.append(Arm(**spec))
    return arms


def _constraints_of(cfg: dict[str, Any], design: Any, path: Any) -> Any:
    """The schedule constraints of ``constraints`` (working hours become windows)."""
    from .optimal_design import ScheduleConstraints, working_hours

    con = dict(cfg.get("constraints") or {})
    _unknown(con, _CONSTRAINT_KEYS, "constraints", path)
    latest = float(con.get("latest_h", max(336.0, design.times[-1])))
    windows = con.get("windows")
    if con.get("working_hours"):
        wh = dict(con["working_hours"])
        _unknown(wh, {"start", "end", "dose_clock", "days"}, "constraints.working_hours",
                 path)
        windows = working_hours(latest, float(wh.get("dose_clock", 9.0)),
                                float(wh.get("start", 9.0)), float(wh.get("end", 17.0)),
                                wh.get("days"))
    return ScheduleConstraints(int(con.get("n_visits", len(design.times))),
                               float(con.get("earliest_h", 0.5)), latest,
                               float(con.get("min_spacing_h", 1.0)), windows)


def _comparisons_of(cfg: dict[str, Any], regions: list[Any], path: Any) -> list[Any]:
    """The comparisons, each naming regions of the plan."""
    comparisons = [_comparison(c, path) for c in (cfg.get("comparisons") or [])]
    names = {r.name for r in regions}
    for c in comparisons:
        missing = {x for x in (c.a, c.b) if c.kind == "regions"} | (
            {c.region} if c.kind != "regions" else set())
        if missing - names:
            raise ConfigError(f"comparisons: region(s) {sorted(missing - names)} not in "
                              f"the plan ({sorted(names)})", path)
    return comparisons


def build_plan_inputs(cfg: dict[str, Any], path: Any = None) -> dict[str, Any]:
    """Check a plan configuration (YAML mapping or flags) and build the planning objects.

    Parameters
    ----------
    cfg : dict
        The plan's keys (format in the module docstring).
    path : str or Path, optional
        The plan file, named in error messages.

    Returns
    -------
    dict
        ``design`` (:class:`StudyDesign`), ``constraints``, ``criterion``,
        ``comparisons``, ``allocation``, ``max_rse``, ``target_power``,
        ``n_simulations``, ``n_starts``, ``seed`` and ``figure``.

    Raises
    ------
    ConfigError
        For an unknown key (with a suggestion) or a bad value, naming ``path``.
    """
    from .optimal_design import CRITERIA
    from .planning import StudyDesign

    _unknown(cfg, _KEYS, "plan", path)
    try:
        regions = _regions_of(cfg, path)
        times = (_as_float_list(cfg["visits_h"], "visits_h", path) if "visits_h" in cfg
                 else (2.0, 24.0, 72.0, 168.0, 336.0))
        design = StudyDesign(tuple(regions), times=times, arms=tuple(_arms_of(cfg, path)),
                             n_baseline=int(cfg.get("n_baseline", 1)),
                             dose_ref_mg_per_kg=float(cfg.get("dose_ref_mg_per_kg", 0.5)))
        constraints = _constraints_of(cfg, design, path)
        criterion = check_option("criterion", str(cfg.get("criterion", "mean_rse_tau")),
                                 CRITERIA)
        comparisons = _comparisons_of(cfg, regions, path)
    except (AnalysisError, SettingsError) as exc:  # a bad value in the file: say which file
        raise ConfigError(exc.detail, path) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"plan: {exc}", path) from exc
    return {"design": design, "constraints": constraints, "criterion": criterion,
            "comparisons": comparisons, "allocation": bool(cfg.get("allocation", False)),
            "max_rse": cfg.get("max_rse"), "target_power": cfg.get("target_power"),
            "n_simulations": int(cfg.get("simulate", 0)), "n_starts": int(cfg.get("n_starts", 8)),
            "seed": cfg.get("seed", 0), "figure": cfg.get("figure")}


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", default=None, help="plan YAML file (optional)")
    p.add_argument("--scenario", default=None,
                   help="region models from a simulator scenario (default: the seed article's)")
    p.add_argument("--regions", default=None,
                   help="typed-in regions NAME:TAU_H:AMPLITUDE,... (other SDs from defaults)")
    p.add_argument("--visits", default=None, help="current post-dose visits (h), e.g. 2,24,72")
    p.add_argument("--n", type=int, default=None, help="subjects (per arm)")
    p.add_argument("--n-visits", type=int, default=None, help="visits of the optimal schedule")
    p.add_argument("--earliest", type=float, default=None, help="earliest visit (h)")
    p.add_argument("--latest", type=float, default=None, help="latest visit (h)")
    p.add_argument("--min-spacing", type=float, default=None, help="minimum spacing (h)")
    p.add_argument("--working-hours", default=None,
                   help="allowed clock hours START-END with the dose at START, e.g. 9-17")
    p.add_argument("--criterion", default=None, choices=["D", "mean_rse_tau", "max_rse_tau"])
    p.add_argument("--compare", action="append", default=None,
                   help="comparison, e.g. STR>PFC (repeatable)")
    p.add_argument("--max-rse", type=float, default=None,
                   help="sample size for SE(log tau) <= this in every region")
    p.add_argument("--power", type=float, default=None,
                   help="sample size for this power of the first comparison")
    p.add_argument("--simulate", type=int, default=None,
                   help="simulated studies checking the recommended design")
    p.add_argument("--n-starts", type=int, default=None, help="optimiser starts (default 8)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--figure", default=None, help="PNG to write (default plan.png)")


def _regions_flag(text: str) -> dict[str, Any]:
    """``--regions NAME:TAU_H:AMPLITUDE,...`` (other SDs from the scenario's PFC)."""
    from .planning import regions_from_scenario

    ref = {r.name: r for r in regions_from_scenario()}["PFC"]
    regs: dict[str, Any] = {}
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != 3:
            raise ConfigError(f"--regions: expected NAME:TAU_H:AMPLITUDE, got {item!r}")
        try:
            tau, amp = float(parts[1]), float(parts[2])
        except ValueError as exc:
            raise ConfigError(f"--regions: tau and amplitude must be numbers in {item!r}"
                              ) from exc
        regs[parts[0]] = {"tau_h": tau, "amplitude": amp,
                          "sd_log_amplitude": ref.sd_log_amplitude,
                          "sd_log_tau": ref.sd_log_tau, "residual_sd": ref.residual_sd}
    return regs


def _constraint_flags(args: argparse.Namespace, con: dict[str, Any]) -> dict[str, Any]:
    """The constraint flags over the file's ``constraints``."""
    for flag, key in (("n_visits", "n_visits"), ("earliest", "earliest_h"),
                      ("latest", "latest_h"), ("min_spacing", "min_spacing_h")):
        if getattr(args, flag) is not None:
            con[key] = getattr(args, flag)
    if args.working_hours:
        try:
            start, end = (float(x) for x in args.working_hours.split("-"))
        except ValueError as exc:
            raise ConfigError(f"--working-hours: expected START-END, got "
                              f"{args.working_hours!r}") from exc
        con["working_hours"] = {"start": start, "end": end, "dose_clock": start}
    return con


def _flags_to_config(args: argparse.Namespace) -> dict[str, Any]:
    cfg: dict[str, Any] = _read_yaml(args.config) if args.config else {}
    if args.regions:
        cfg["regions"] = _regions_flag(args.regions)
        cfg.pop("scenario", None)
    elif args.scenario:
        cfg["scenario"] = args.scenario
        cfg.pop("regions", None)
    if "regions" not in cfg and "scenario" not in cfg:
        cfg["scenario"] = "default"
    con = _constraint_flags(args, dict(cfg.get("constraints") or {}))
    if con:
        cfg["constraints"] = con
    for flag, key in (("visits", "visits_h"), ("n", "n_subjects"), ("criterion", "criterion"),
                      ("compare", "comparisons"), ("max_rse", "max_rse"),
                      ("power", "target_power"), ("simulate", "simulate"),
                      ("n_starts", "n_starts"), ("seed", "seed"), ("figure", "figure")):
        if getattr(args, flag) is not None:
            cfg[key] = getattr(args, flag)
    if args.n is not None and cfg.get("arms"):
        cfg["arms"] = [dict(a, n_subjects=args.n) for a in cfg["arms"]]
        cfg.pop("n_subjects")
    return cfg


def run(args: argparse.Namespace) -> int:
    """Run ``ketephys plan``: build the plan from the YAML file and the flags (the flags
    win), print it and write its figure (``figure`` of the input, default ``plan.png``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``plan`` arguments.

    Returns
    -------
    int
        The exit code: 0, or 2 for bad input (the error is printed on stderr).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from .plan import plan_study

    try:
        cfg = _flags_to_config(args)
        inputs = build_plan_inputs(cfg, args.config)
        figure = inputs.pop("figure") or "plan.png"
        plan = plan_study(**inputs)
    except KetephysError as exc:
        return report_bad_input("plan", exc)
    print(plan.to_text())
    fig = plan.plot()
    fig.savefig(figure, dpi=120)
    print(f"figure written to {figure}")
    return 0


register = subcommand_registrar(
    "plan", run, _add_arguments,
    help="plan a study: optimal visit times, expected tau CIs, power, N",
    description="Expected precision of tau per region for the current visit schedule and "
                "the optimal one under the constraints (FO population Fisher "
                "information), power of the comparisons, sample size; writes a figure.")
