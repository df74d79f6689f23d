"""Study-level simulator of per-visit plasticity markers with known decay parameters.

:func:`simulate_marker_study` draws a whole study (subjects x regions x visits) from the
population decay model that :mod:`ketephys.longitudinal` estimates, so that
simulation-estimation (bias, RMSE, CI coverage) can be run on it, and so that the
file-level simulators can be driven by one marker value per (subject, region, visit).

Model, per subject ``i`` and region ``g`` (t = hours since the first dose)::

    value = E0_g + b_i + A_i * sum_j s_j K(t - t_j; tau_i) + noise
    A_i   = A_g   * (D_i / D_ref) ** dose_amp_exponent * exp(eta_A)
    tau_i = tau_g * (D_i / D_ref) ** dose_tau_exponent
            * met_tau_factor ** [Met carrier] * exp(eta_tau)
    s_j   = (D_j / D_1) ** gamma          (superposition of repeated infusions)

with ``eta_A ~ N(0, bsv_sd_amplitude^2)``, ``eta_tau ~ N(0, bsv_sd_tau^2)`` (log-normal
between-subject variability), ``b_i ~ N(0, baseline_sd^2)`` and
``noise ~ N(0, noise_sd^2)``. ``K`` is the mono-exponential kernel (or Bateman when the
scenario says ``"kernel": "bateman"`` with a ``rise_fraction``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..errors import SettingsError

__all__ = ["simulate_marker_study", "DEFAULT_SCENARIO", "DEFAULT_SCHEDULE", "SCENARIOS"]

#: Default visit schedule (hours since dose): baseline, 2 h, 24 h, day 3, day 7, day 14.
DEFAULT_SCHEDULE = (-1.0, 2.0, 24.0, 72.0, 168.0, 336.0)

#: Default scenario (from the seed article, :ref:`science-region-time-courses`): the
#: hippocampus is fastest (tau 36 h, ~1.5 d), the prefrontal cortex lasts several days
#: (tau 108 h, 4.5 d) and the striatum longest (tau 204 h, 8.5 d). A higher dose gives a
#: larger but shorter-lived effect (amplitude ~ D^0.5, tau ~ D^-0.4 relative to
#: 0.5 mg/kg); BDNF Met carriers have 30 % shorter tau. Values are in arbitrary marker
#: units with a baseline of 1 (e.g. gamma power relative to a reference).
DEFAULT_SCENARIO: dict[str, Any] = {
    "measure": "marker",
    "unit": "a.u.",
    "kernel": "exponential",
    "regions": {
        "PFC": {"E0": 1.0, "A": 0.40, "tau_h": 108.0},
        "HPC": {"E0": 1.0, "A": 0.60, "tau_h": 36.0},
        "STR": {"E0": 1.0, "A": 0.30, "tau_h": 204.0},
    },
    "dose_ref_mg_per_kg": 0.5,
    "dose_amp_exponent": 0.5,
    "dose_tau_exponent": -0.4,
    "met_tau_factor": 0.7,
    "met_amp_factor": 1.0,
    "gamma": 1.0,
    "bsv_sd_amplitude": 0.2,
    "bsv_sd_tau": 0.25,
    "baseline_sd": 0.05,
    "noise_sd": 0.04,
    "genotype_fraction_met": 0.0,
    "rise_fraction": 0.1,
}

#: Named scenarios: "default" and two edge cases used by the identifiability checks.
SCENARIOS: dict[str, dict[str, Any]] = {
    "default": DEFAULT_SCENARIO,
    "too_fast": {"regions": {"FAST": {"E0": 1.0, "A": 0.5, "tau_h": 1.0}}},
    "too_slow": {"regions": {"SLOW": {"E0": 1.0, "A": 0.5, "tau_h": 2000.0}}},
}


def _resolve_scenario(scenario: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise SettingsError(f"unknown marker scenario {scenario!r}; known: {sorted(SCENARIOS)}")
        scenario = SCENARIOS[scenario]
    out = copy.deepcopy(DEFAULT_SCENARIO)
    for key, val in dict(scenario).items():
        if key not in out:
            raise SettingsError(f"unknown scenario key {key!r}; known: {sorted(out)}")
        out[key] = copy.deepcopy(val)
    for name, reg in out["regions"].items():
        missing = {"E0", "A", "tau_h"} - set(reg)
        if missing:
            raise SettingsError(f"scenario region {name!r} lacks {sorted(missing)}")
        if reg["tau_h"] <= 0:
            raise SettingsError(f"scenario region {name!r}: tau_h must be > 0")
    return out


def simulate_marker_study(
    scenario: str | Mapping[str, Any] = "default",
    n_subjects: int = 20,
    regions: Sequence[str] | None = ("PFC", "HPC", "STR"),
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    doses: float | Sequence[float] = (0.5,),
    infusions: Sequence[tuple[float, float]] | None = None,
    genotype_fraction_met: float | None = None,
    bsv_sd: tuple[float, float] | None = None,
    noise_sd: float | None = None,
    condition: str = "ketamine",
    seed: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate per-visit marker values of a whole study with known decay parameters.

    The random draws come in a fixed order (genotypes, baseline offsets, then per region
    the log amplitude and log tau deviations and the visit noise), so a seed gives the
    same study every time.

    Parameters
    ----------
    scenario : str or dict
        ``"default"`` (:data:`DEFAULT_SCENARIO`), another key of :data:`SCENARIOS`, or a
        dict overriding keys of the default (e.g. ``{"regions": {"X": {"E0": 0, "A": 1,
        "tau_h": 50}}}``).
    n_subjects : int
        Number of subjects; every subject is recorded in every region at every visit.
    regions : sequence of str or None
        Regions of the scenario to simulate (None: all of them).
    schedule : sequence of float
        Visit times in hours since the (first) dose; negative = pre-dose baseline.
    doses : float or sequence of float
        Dose in mg/kg. Length 1: everyone gets it; length ``n_subjects``: per subject;
        otherwise subjects cycle through the listed doses (balanced design).
    infusions : list of (t_h, relative_dose), optional
        Repeated-dose course: infusion times (h after the first) and dose multipliers of
        the subject's dose, e.g. six infusions over two weeks
        ``[(0, 1), (72, 1), (168, 1), (240, 1), (336, 1), (408, 1)]``. Default: one dose.
    genotype_fraction_met : float, optional
        Fraction of BDNF Val66Met Met carriers (default from the scenario, 0).
    bsv_sd : (sd_log_amplitude, sd_log_tau), optional
        Between-subject SDs on the log scale (default from the scenario).
    noise_sd : float, optional
        Residual (visit-to-visit measurement) SD in marker units (default from scenario).
    condition : str
        Value of the ``condition`` column.
    seed : int or numpy.random.Generator, optional
        Seed of every draw (None: fresh entropy).

    Returns
    -------
    table : pandas.DataFrame
        One row per (subject, region, visit), tidy, columns: ``subject`` (``"sub-01"``...),
        ``session`` (``"baseline"``, ``"2h"``, ``"24h"``, ``"d3"``...), ``region``,
        ``condition``, ``dose_mg_per_kg`` (the subject's dose), ``infusion`` (number of
        infusions received before the visit; 0 at baseline), ``hours_since_dose`` (hours
        since the FIRST infusion; negative before it), ``hours_since_last_dose`` (NaN
        before the first), ``genotype`` (``"Val/Val"`` or ``"Val/Met"``), ``measure``,
        ``value`` (observed, with noise), ``expected`` (the subject's noise-free value),
        ``unit``.
    truth : dict
        ``regions`` -> {region: {"E0", "A", "tau_h"}} (typical values at the reference
        dose, Val/Val), the covariate effects on the log scale (``dose_amp_exponent``,
        ``dose_tau_exponent``, ``log_met_tau`` = log(met_tau_factor), ``log_met_amp``),
        ``bsv_sd_amplitude``, ``bsv_sd_tau``, ``baseline_sd``, ``noise_sd``, ``schedule``,
        ``infusions``, ``dose_ref_mg_per_kg``, ``kernel``, and ``subjects`` (a DataFrame
        of the per-subject, per-region individual A and tau actually drawn).

    Raises
    ------
    SettingsError
        An unknown scenario, scenario key or region, a region without ``E0``/``A``/
        ``tau_h`` or with ``tau_h <= 0``, ``n_subjects < 1``, a dose <= 0, or infusions not
        starting at 0 h.
    """
    sc = _scenario_with_overrides(scenario, genotype_fraction_met, bsv_sd, noise_sd)
    rng = check_random_state(seed)
    if n_subjects < 1:
        raise SettingsError("n_subjects must be >= 1")
    region_names = _region_names(sc, scenario, regions)
    subj_dose = _subject_doses(doses, n_subjects)
    met = rng.random(n_subjects) < sc["genotype_fraction_met"]
    course = _infusion_course(infusions)
    visits = np.asarray(schedule, dtype=float)
    baseline_offset = rng.normal(0.0, sc["baseline_sd"], n_subjects)  # shared across regions
    rows, subj_rows = [], []
    for region in region_names:
        drawn = _draw_region(rng, sc, region, subj_dose, met, baseline_offset, visits, course)
        subj_rows += _subject_rows(region, drawn, subj_dose, met)
        rows += _visit_rows(region, drawn, subj_dose, met, visits, course, condition, sc)
    truth = _truth(sc, region_names, visits, course)
    truth["subjects"] = pd.DataFrame(subj_rows)
    return pd.DataFrame(rows), truth


def _scenario_with_overrides(scenario: str | Mapping[str, Any],
                             genotype_fraction_met: float | None,
                             bsv_sd: tuple[float, float] | None,
                             noise_sd: float | None) -> dict[str, Any]:
    """The resolved scenario with the keyword overrides of :func:`simulate_marker_study`."""
    sc = _resolve_scenario(scenario)
    if genotype_fraction_met is not None:
        sc["genotype_fraction_met"] = float(genotype_fraction_met)
    if bsv_sd is not None:
        sc["bsv_sd_amplitude"], sc["bsv_sd_tau"] = (float(v) for v in bsv_sd)
    if noise_sd is not None:
        sc["noise_sd"] = float(noise_sd)
    return sc


def _region_names(sc: dict[str, Any], scenario: str | Mapping[str, Any],
                  regions: Sequence[str] | None) -> list[str]:
    """The regions to simulate, each checked to be in the scenario: all of them when
    ``regions`` is None or, for a named scenario other than ``"default"``, the default
    ``("PFC", "HPC", "STR")`` (the edge-case scenarios have regions of their own)."""
    named = isinstance(scenario, str) and scenario != "default"
    if regions is None or (named and regions == ("PFC", "HPC", "STR")):
        return list(sc["regions"])
    for name in regions:
        if name not in sc["regions"]:
            raise SettingsError(f"region {name!r} is not in the scenario ({sorted(sc['regions'])})")
    return list(regions)


def _subject_doses(doses: float | Sequence[float], n_subjects: int) -> np.ndarray:
    """Dose of every subject (mg/kg): one for all, one each, or cycling through the list."""
    dose_list = np.atleast_1d(np.asarray(doses, dtype=float))
    if np.any(dose_list <= 0):
        raise SettingsError("doses must be > 0 mg/kg")
    return dose_list if dose_list.size == n_subjects else np.resize(dose_list, n_subjects)


def _infusion_course(infusions: Sequence[tuple[float, float]] | None
                     ) -> list[tuple[float, float]]:
    """(time since the first dose in h, dose / the subject's dose) of every infusion,
    sorted; a single dose at 0 h by default."""
    course = [(0.0, 1.0)] if not infusions else [(float(t), float(d)) for t, d in infusions]
    course.sort()
    if course[0][0] != 0.0:
        raise SettingsError("the first infusion must be at t_h = 0 (times are since the first dose)")
    return course


def _draw_region(rng: np.random.Generator, sc: dict[str, Any], region: str,
                 subj_dose: np.ndarray, met: np.ndarray, baseline_offset: np.ndarray,
                 visits: np.ndarray, course: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """One region's subjects: their amplitude and tau (covariates and between-subject
    variability drawn), model parameters ``p`` (n_subjects, n_params), noise-free values
    ``f`` and observed values ``y`` (n_subjects, n_visits)."""
    from ..decay_models import DecayModel

    n_subjects = subj_dose.size
    reg = sc["regions"][region]
    eta_a = rng.normal(0.0, sc["bsv_sd_amplitude"], n_subjects)
    eta_t = rng.normal(0.0, sc["bsv_sd_tau"], n_subjects)
    log_ratio = np.log(subj_dose / sc["dose_ref_mg_per_kg"])
    amp = reg["A"] * np.exp(sc["dose_amp_exponent"] * log_ratio + eta_a) * np.where(
        met, sc["met_amp_factor"], 1.0)
    tau = reg["tau_h"] * np.exp(sc["dose_tau_exponent"] * log_ratio + eta_t) * np.where(
        met, sc["met_tau_factor"], 1.0)
    sign = 1.0 if np.all(amp >= 0) else -1.0
    params = [np.full(n_subjects, reg["E0"]) + baseline_offset, np.log(np.abs(amp)),
              np.log(tau)]
    if sc["kernel"] == "bateman":
        rf = sc["rise_fraction"]
        params.append(np.full(n_subjects, np.log(rf / (1 - rf))))
    p = np.stack(params, axis=-1)
    dose_t = np.array([c[0] for c in course])
    d_amt = subj_dose[:, None] * np.array([c[1] for c in course])[None, :]
    f, _ = DecayModel(kernel=sc["kernel"], gamma_fixed=sc["gamma"], sign=sign).evaluate(
        np.broadcast_to(visits, (n_subjects, visits.size)), p,
        np.broadcast_to(dose_t, d_amt.shape), d_amt, np.ones(d_amt.shape, bool),
        jacobian=False)
    y = f + rng.normal(0.0, sc["noise_sd"], f.shape)
    return {"amp": amp, "tau": tau, "p": p, "f": f, "y": y}


def _genotype(is_met: bool) -> str:
    return "Val/Met" if is_met else "Val/Val"


def _subject_rows(region: str, drawn: dict[str, np.ndarray], subj_dose: np.ndarray,
                  met: np.ndarray) -> list[dict[str, Any]]:
    """One row per subject of ``truth["subjects"]``: the individual parameters drawn."""
    return [{"subject": f"sub-{i + 1:02d}", "region": region, "A": drawn["amp"][i],
             "tau_h": drawn["tau"][i], "E0": drawn["p"][i, 0], "dose_mg_per_kg": subj_dose[i],
             "genotype": _genotype(met[i])} for i in range(subj_dose.size)]


def _visit_rows(region: str, drawn: dict[str, np.ndarray], subj_dose: np.ndarray,
                met: np.ndarray, visits: np.ndarray, course: list[tuple[float, float]],
                condition: str, sc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (subject, visit) of the study table, subject by subject."""
    dose_t = np.array([c[0] for c in course])
    rows = []
    for i in range(subj_dose.size):
        for v, tv in enumerate(visits):
            n_inf = int(np.sum(dose_t <= tv)) if tv >= 0 else 0
            last = tv - dose_t[dose_t <= tv].max() if tv >= 0 else np.nan
            rows.append({
                "subject": f"sub-{i + 1:02d}", "session": _session_label(tv),
                "region": region, "condition": condition, "dose_mg_per_kg": subj_dose[i],
                "infusion": n_inf, "hours_since_dose": tv, "hours_since_last_dose": last,
                "genotype": _genotype(met[i]), "measure": sc["measure"],
                "value": drawn["y"][i, v], "expected": drawn["f"][i, v], "unit": sc["unit"]})
    return rows


def _truth(sc: dict[str, Any], region_names: list[str], visits: np.ndarray,
           course: list[tuple[float, float]]) -> dict[str, Any]:
    """The ``truth`` dict of :func:`simulate_marker_study`, without ``subjects``."""
    return {
        "regions": {r: dict(sc["regions"][r]) for r in region_names},
        "kernel": sc["kernel"],
        "dose_ref_mg_per_kg": sc["dose_ref_mg_per_kg"],
        "dose_amp_exponent": sc["dose_amp_exponent"],
        "dose_tau_exponent": sc["dose_tau_exponent"],
        "log_met_tau": float(np.log(sc["met_tau_factor"])),
        "log_met_amp": float(np.log(sc["met_amp_factor"])),
        "gamma": sc["gamma"],
        "bsv_sd_amplitude": sc["bsv_sd_amplitude"],
        "bsv_sd_tau": sc["bsv_sd_tau"],
        "baseline_sd": sc["baseline_sd"],
        "noise_sd": sc["noise_sd"],
        "schedule": tuple(visits.tolist()),
        "infusions": tuple(course),
        "rise_fraction": sc["rise_fraction"],
    }


def _session_label(hours: float) -> str:
    if hours < 0:
        return "baseline"
    if hours < 48 and hours == int(hours):
        return f"{int(hours)}h"
    if hours < 48:
        return f"{hours:g}h"
    days = f"{hours / 24.0:.1f}".rstrip("0").rstrip(".")
    return f"d{days}"
