"""A whole simulated study written to real files: the ground truth of the batch pipeline.

:func:`simulate_study` draws, for every modality, one marker value per (subject, region,
visit) from the population decay model of :func:`~ketephys.simulate.simulate_marker_study`
(known tau per region, two doses, between-subject variability) and renders each value
into a recording with that modality's simulator:

==========  ============================================  =========================
modality    the marker sets                               file
==========  ============================================  =========================
``eeg``     gamma-bump power (30-80 Hz) of scalp EEG      EDF + JSON sidecar
``lfp``     gamma-bump power of rodent LFP                NWB
``tms-eeg`` scale of every TEP component                  BrainVision + sidecar
``fepsp``   LTP factor (1.2 x marker) of a slice          ``.npy`` (sweeps) + sidecar
==========  ============================================  =========================

Each of these read-outs is an affine function of the marker, so the decay time constant
of the measured read-out is the marker's tau: the per-region taus in ``truth`` are what
the pipeline's decay fits should recover. Recordings are kept small (seconds, few
channels) so a whole study is written and analysed in about a minute.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SettingsError

__all__ = ["simulate_study", "STUDY_LAYOUT", "DEMO_MODALITIES"]

log = logging.getLogger(__name__)

#: Modalities of the demo study.
DEMO_MODALITIES = ("eeg", "lfp", "tms-eeg", "fepsp")

#: Per modality: regions recorded (None: every region of the study), file extension,
#: and the read-out the marker drives.
STUDY_LAYOUT: dict[str, dict[str, Any]] = {
    "eeg": {"regions": ("PFC",), "ext": ".edf", "readout": "EEG gamma power"},
    "lfp": {"regions": None, "ext": ".nwb", "readout": "LFP gamma power"},
    "tms-eeg": {"regions": ("PFC",), "ext": ".vhdr", "readout": "TEP amplitude scale"},
    "fepsp": {"regions": ("HPC",), "ext": ".npy", "readout": "LTP factor (1.2 x marker)"},
}


def _render(modality: str, marker: float, meta: dict[str, Any], rng: np.random.Generator):
    """One small recording of ``modality`` whose read-out is set by ``marker``."""
    if modality == "eeg":
        from .eeg import simulate_eeg

        return simulate_eeg(n_channels=4, duration=20.0, sfreq=250.0,
                            gamma_power=6e-11 * marker, theta_coherence=0.5,
                            filter_seconds=2.0, meta=meta,
                            ch_names=["Fz", "F3", "F4", "Cz"], seed=rng)
    if modality == "lfp":
        from .eeg import simulate_lfp

        return simulate_lfp(n_channels=2, duration=20.0, sfreq=500.0,
                            gamma_power=4e-10 * marker, hfo=None, filter_seconds=2.0,
                            meta=meta, seed=rng)
    if modality == "tms-eeg":
        from .tms import simulate_tms_eeg

        return simulate_tms_eeg(n_channels=8, n_trials=30, sfreq=1000.0, isi=(1.0, 1.2),
                                excitability_scale=marker, annotate=True, meta=meta,
                                seed=rng)
    if modality == "fepsp":
        from .fepsp import simulate_fepsp_experiment

        return simulate_fepsp_experiment(n_baseline_min=10.0, n_post_min=60.0,
                                         sweep_interval=60.0, sfreq=10000.0,
                                         sweep_duration=0.05, induction_gap=180.0,
                                         ltp_magnitude=1.2 * marker,
                                         meta=meta, seed=rng)
    raise SettingsError(f"simulate_study: unknown modality {modality!r}; known: "
                      f"{sorted(STUDY_LAYOUT)}")


def _write_one(modality: str, marker: float, meta: dict[str, Any], seed: int, path: str,
               overwrite: bool) -> str:
    """Render one recording and write it (runs in a worker process when n_jobs > 1)."""
    from .._parallel import single_blas_thread
    from ..io import files_of, write

    with single_blas_thread():
        rec, _ = _render(modality, marker, meta, np.random.default_rng(seed))
        write(rec, path, overwrite=overwrite)
    # the writers' temporary files are 0600; a lab folder needs the user's usual mode
    mask = os.umask(0)
    os.umask(mask)
    for file in files_of(path):
        os.chmod(file, 0o666 & ~mask)
    return path


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict(orient="records")
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def simulate_study(
    out_dir: str | os.PathLike,
    scenario: str | Mapping[str, Any] = "default",
    n_subjects: int = 4,
    regions: Sequence[str] = ("PFC", "HPC", "STR"),
    visits: Sequence[float] = (-1.0, 2.0, 24.0, 72.0, 168.0, 336.0),
    doses: Sequence[float] = (0.5, 1.0),
    modalities: Sequence[str] = DEMO_MODALITIES,
    noise_sd: float | None = None,
    seed: int = 0,
    overwrite: bool = False,
    n_jobs: int = 1,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write a simulated multi-modal study (files + ``manifest.csv`` + ``truth.json``).

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write into (created). Files go to ``<modality>/`` sub-folders, named
        ``sub-XX_ses-<visit>_<region>_<modality>.<ext>``.
    scenario : str or dict
        Decay scenario of :func:`~ketephys.simulate.simulate_marker_study` (per-region E0,
        A, tau_h; dose effects; between-subject variability).
    n_subjects : int
        Subjects per modality (doses alternate between them).
    regions : sequence of str
        Regions of the study; each modality records the regions of
        :data:`STUDY_LAYOUT` that are among them.
    visits : sequence of float
        Visit times, hours since dose (negative: baseline).
    doses : sequence of float
        Doses in mg/kg, alternating over subjects.
    modalities : sequence of str
        Any of ``"eeg"``, ``"lfp"``, ``"tms-eeg"``, ``"fepsp"``.
    noise_sd : float, optional
        Visit-to-visit marker noise (default: the scenario's).
    seed : int
    overwrite : bool
        Replace existing files.
    n_jobs : int
        Worker processes writing the files (the result does not depend on it: each
        recording has its own seed drawn from ``seed``).

    Returns
    -------
    manifest : pandas.DataFrame
        One row per recording: ``path`` (relative to ``out_dir``), ``modality`` and the
        study metadata (subject, session, region, condition, dose_mg_per_kg, infusion,
        hours_since_dose, genotype). Also written to ``out_dir/manifest.csv``.
    truth : dict
        ``regions`` (per-region E0, A, tau_h at the reference dose), ``dose_ref_mg_per_kg``,
        the scenario's covariate effects, ``markers`` (a DataFrame: per recording the
        simulated marker value and the noise-free expected value), and ``layout``.
        Written (JSON) to ``out_dir/truth.json``.
    """
    from .markers import simulate_marker_study

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unknown = [m for m in modalities if m not in STUDY_LAYOUT]
    if unknown:
        raise SettingsError(f"simulate_study: unknown modalities {unknown}; known: "
                          f"{sorted(STUDY_LAYOUT)}")
    master = np.random.default_rng(seed)
    rows, marker_rows, jobs = [], [], []
    truth_regions: dict[str, Any] = {}
    marker_truth: dict[str, Any] = {}
    for modality in modalities:
        layout = STUDY_LAYOUT[modality]
        mod_regions = [r for r in regions if layout["regions"] is None
                       or r in layout["regions"]]
        if not mod_regions:
            continue
        table, truth = simulate_marker_study(
            scenario=scenario, n_subjects=n_subjects, regions=mod_regions, schedule=visits,
            doses=doses, noise_sd=noise_sd, seed=master)
        truth_regions.update(truth["regions"])
        marker_truth = truth
        folder = out_dir / modality
        folder.mkdir(exist_ok=True)
        for rec_row in table.itertuples(index=False):
            subject = str(rec_row.subject).removeprefix("sub-")  # BIDS label, no prefix
            meta = {
                "subject": subject, "session": rec_row.session,
                "region": rec_row.region, "condition": rec_row.condition,
                "dose_mg_per_kg": float(rec_row.dose_mg_per_kg),
                # StudyMeta counts infusions from 1; a baseline visit follows none
                "infusion": int(rec_row.infusion) if rec_row.infusion >= 1 else None,
                "hours_since_dose": float(rec_row.hours_since_dose),
                "genotype": rec_row.genotype,
            }
            name = (f"sub-{subject}_ses-{rec_row.session}_{rec_row.region}_"
                    f"{modality}{layout['ext']}")
            jobs.append((modality, float(rec_row.value), meta,
                         int(master.integers(2**63 - 1)), str(folder / name), overwrite))
            rows.append({"path": f"{modality}/{name}", "modality": modality, **meta})
            marker_rows.append({"path": f"{modality}/{name}", "modality": modality,
                                "subject": subject, "region": rec_row.region,
                                "hours_since_dose": rec_row.hours_since_dose,
                                "dose_mg_per_kg": rec_row.dose_mg_per_kg,
                                "marker": rec_row.value, "expected": rec_row.expected})
    if n_jobs > 1 and len(jobs) > 1:
        from .._parallel import make_pool

        with make_pool(min(n_jobs, len(jobs))) as pool:
            for fut in [pool.submit(_write_one, *job) for job in jobs]:
                fut.result()
    else:
        for job in jobs:
            _write_one(*job)
    log.info("simulate_study: %d recordings written to %s", len(jobs), out_dir)
    manifest = pd.DataFrame(rows)
    manifest.to_csv(out_dir / "manifest.csv", index=False)
    truth_out = {
        "regions": truth_regions,
        "dose_ref_mg_per_kg": marker_truth.get("dose_ref_mg_per_kg"),
        "dose_amp_exponent": marker_truth.get("dose_amp_exponent"),
        "dose_tau_exponent": marker_truth.get("dose_tau_exponent"),
        "bsv_sd_amplitude": marker_truth.get("bsv_sd_amplitude"),
        "bsv_sd_tau": marker_truth.get("bsv_sd_tau"),
        "noise_sd": marker_truth.get("noise_sd"),
        "kernel": marker_truth.get("kernel"),
        "visits": list(visits), "doses": list(doses), "n_subjects": n_subjects,
        "seed": seed,
        "layout": {m: {**STUDY_LAYOUT[m], "regions": STUDY_LAYOUT[m]["regions"]}
                   for m in modalities},
        "markers": pd.DataFrame(marker_rows),
    }
    (out_dir / "truth.json").write_text(json.dumps(_jsonable(truth_out), indent=1))
    return manifest, truth_out
