"""``ketephys demo``: simulate a small multi-modal study, run the demo config, compare.

The study (EEG, TMS-EEG, field-EPSP LTP and rodent LFP; three regions; six visits; two
doses) is written into real file formats by :func:`ketephys.simulate.simulate_study`, the
demo configuration shipped with the package (``ketephys/data/demo.yaml``, identical to
``sample_configs/demo.yaml``) is run over it, and the per-region decay time constants are
set beside the simulated truth.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .config import PipelineConfig, config_from_dict

__all__ = ["DEMO_STUDY", "demo_config_text", "demo_config", "simulate_demo_study",
           "run_demo", "compare_with_truth", "TAU_COLUMNS"]

log = logging.getLogger(__name__)

#: The simulated study of the demo (keywords of :func:`ketephys.simulate.simulate_study`).
DEMO_STUDY: dict[str, Any] = {
    "n_subjects": 6,
    "regions": ("PFC", "HPC", "STR"),
    "visits": (-1.0, 2.0, 24.0, 72.0, 168.0, 336.0),
    "doses": (0.5, 1.0),
    "modalities": ("eeg", "lfp", "tms-eeg", "fepsp"),
}


def demo_config_text() -> str:
    """The demo configuration (package data ``ketephys/data/demo.yaml``).

    Returns
    -------
    str
        The YAML text.
    """
    from importlib.resources import files

    return files("ketephys").joinpath("data", "demo.yaml").read_text()


def demo_config(base_dir: str | os.PathLike) -> PipelineConfig:
    """The demo configuration, validated.

    Parameters
    ----------
    base_dir : str or path-like
        Folder its relative paths are resolved against: the demo's output folder, which
        holds the simulated study in ``data/``.

    Returns
    -------
    PipelineConfig
    """
    import yaml

    return config_from_dict(yaml.safe_load(demo_config_text()), base_dir=base_dir,
                            source="ketephys/data/demo.yaml")


def simulate_demo_study(out: str | os.PathLike, seed: int = 0,
                        n_subjects: int | None = None, n_jobs: int = 1
                        ) -> tuple[Any, dict[str, Any]]:
    """Write the demo study into ``out`` (skipped when the same study is already there).

    Parameters
    ----------
    out : str or path-like
        Folder of the study (its files, ``manifest.csv``, ``truth.json`` and the
        ``simulation.json`` stamp that says which study it holds).
    seed : int
        Seed of the whole study (default 0).
    n_subjects : int, optional
        Subjects instead of the 6 of :data:`DEMO_STUDY`.
    n_jobs : int
        Worker processes writing the files (default 1).

    Returns
    -------
    manifest : pandas.DataFrame
        One row per file (``path`` and its metadata).
    truth : dict
        The simulated truth (``regions`` with each region's ``tau_h``; ``markers``, the
        per-visit marker values, as a DataFrame).
    """
    import pandas as pd

    from ..simulate.study import simulate_study

    out = Path(out)
    params = {**DEMO_STUDY, "seed": seed}
    if n_subjects is not None:
        params["n_subjects"] = n_subjects
    stamp = out / "simulation.json"
    wanted = json.dumps(params, sort_keys=True, default=list)
    if stamp.is_file() and stamp.read_text() == wanted and (out / "manifest.csv").is_file() \
            and (out / "truth.json").is_file():
        log.info("demo study already simulated in %s", out)
        truth = json.loads((out / "truth.json").read_text())
        truth["markers"] = pd.DataFrame(truth["markers"])
        return pd.read_csv(out / "manifest.csv"), truth
    manifest, truth = simulate_study(out, overwrite=True, n_jobs=n_jobs, **params)
    stamp.write_text(wanted)
    return manifest, truth


#: Columns of :meth:`ketephys.longitudinal.DecayFit.summary` read here.
TAU_COLUMNS = ("tau_h", "tau_ci_low_h", "tau_ci_high_h")


def compare_with_truth(fits, truth: dict[str, Any]):
    """Set the estimated decay time constants beside the simulated ones.

    Parameters
    ----------
    fits : pandas.DataFrame or None
        decay_fits.csv of the demo run (with the :data:`TAU_COLUMNS`).
    truth : dict
        The truth of :func:`simulate_demo_study` (``truth["regions"][region]["tau_h"]``).

    Returns
    -------
    pandas.DataFrame
        Per fit and region: ``fit``, ``region``, ``true_tau_h`` (h, at the reference
        dose), ``tau_h``, ``ci_low``, ``ci_high`` and ``ci_contains_truth``; empty when
        there are no estimates (every fit failed).
    """
    import pandas as pd

    if fits is None or fits.empty:
        return pd.DataFrame()
    t, lo, hi = TAU_COLUMNS
    if not set(TAU_COLUMNS) <= set(fits.columns):  # every fit failed: decay_fits.csv says why
        log.warning("demo: no decay estimates to compare with the truth (columns: %s)",
                    list(fits.columns))
        return pd.DataFrame()
    group_col = next((c for c in ("group", "region", "level") if c in fits.columns), None)
    rows = []
    for _, row in fits.iterrows():
        region = row.get(group_col) if group_col else None
        true = truth["regions"].get(str(region), {}).get("tau_h") if region else None
        if true is None:
            continue
        rows.append({"fit": row["fit"], "region": region, "true_tau_h": true,
                     "tau_h": row[t], "ci_low": row[lo], "ci_high": row[hi],
                     "ci_contains_truth": bool(row[lo] <= true <= row[hi])})
    return pd.DataFrame(rows)


def run_demo(out: str | os.PathLike = "ketephys-demo", n_jobs: int = 2, seed: int = 0,
             force: bool = False, progress: bool = False, n_subjects: int | None = None):
    """Simulate the demo study into ``out/data`` and run the demo config into ``out``.

    The comparison is also written to ``out/demo_truth_vs_estimate.csv``.

    Parameters
    ----------
    out : str or path-like
        Output folder (default ``ketephys-demo`` in the current folder).
    n_jobs : int
        Worker processes for the simulation and the run (default 2); the numbers do not
        depend on it.
    seed : int
        Seed of the simulated study (default 0).
    force : bool
        Recompute every recording even when cached.
    progress : bool
        Show a progress bar on stderr.
    n_subjects : int, optional
        Subjects instead of the 6 of :data:`DEMO_STUDY` (fewer: a quicker, noisier demo).

    Returns
    -------
    result : RunResult
        The run.
    comparison : pandas.DataFrame
        :func:`compare_with_truth` of its decay fits.
    """
    from .runner import run

    out = Path(out).resolve()
    _, truth = simulate_demo_study(out / "data", seed=seed, n_subjects=n_subjects,
                                   n_jobs=n_jobs)
    cfg = demo_config(out)
    result = run(cfg, out=out, n_jobs=n_jobs, force=force, progress=progress)
    comparison = compare_with_truth(result.fits, truth)
    if not comparison.empty:
        from .outputs import write_table

        write_table(comparison, out / "demo_truth_vs_estimate.csv")
    return result, comparison
