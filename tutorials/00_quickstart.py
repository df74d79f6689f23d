"""
.. _tut-quickstart:

Quickstart: a whole study in five minutes
=========================================

ketephys answers one question: **after a dose of ketamine, how long do the changes in
brain activity and synaptic strength last, in each region?** A study records subjects
at several visits (before the dose, 2 h, 24 h, day 3, day 7, day 14) with EEG, TMS-EEG,
rodent LFP, field EPSPs or patch clamp. ketephys reads every file with its metadata,
measures the markers (gamma power, theta coherence, TEP amplitude, LTP...), and fits how
each marker returns to baseline, giving a decay time constant ``tau`` per region with
a confidence interval.

This tutorial does all of it on a simulated study whose true time constants are known:

1. simulate the study into real file formats, with a manifest;
2. run the pipeline with a configuration file;
3. read the feature table and the decay table, and compare with the truth;
4. look at the figures.

The full demo (four modalities, three regions, six subjects) is one command,
``ketephys demo --out ketephys-demo``, which takes a few minutes. To run in well under a
minute here, we simulate two of its modalities: scalp EEG over the prefrontal cortex
(gamma power) and hippocampal slices (LTP magnitude).
"""

# %%
# 1. Simulate a study
# -------------------
# :func:`ketephys.simulate.simulate_study` writes one file per subject, visit and region:
# EEG as EDF, field EPSPs as ``.npy`` arrays with JSON sidecars, and a ``manifest.csv``
# listing every file with its subject, session, region, dose and hours since dose. The
# marker of each recording follows a known decay (the scenario of
# :func:`~ketephys.simulate.simulate_marker_study`: PFC tau 108 h, hippocampus 36 h,
# each subject with its own variation; half the subjects get 1 mg/kg instead of 0.5).
# Everything goes into a temporary folder.

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

import ketephys
from ketephys.pipeline import config_from_dict, run
from ketephys.pipeline.demo import compare_with_truth, demo_config_text

pd.set_option("display.width", 130)

workdir = Path(tempfile.mkdtemp(prefix="ketephys_quickstart_"))
manifest, truth = ketephys.simulate.simulate_study(
    workdir / "data", n_subjects=6, modalities=("eeg", "fepsp"), seed=0)
print(manifest[["path", "modality", "subject", "session", "region", "dose_mg_per_kg",
                "hours_since_dose"]].head(8).to_string(index=False))
print(f"{len(manifest)} recordings; true tau (h):",
      {r: v["tau_h"] for r, v in truth["regions"].items()})

# %%
# 2. Run the pipeline
# -------------------
# A YAML configuration says where the recordings are, what to measure for each
# modality, and which decay fits to make. We start from the demo's configuration
# (``ketephys config --example`` prints a fully commented one) and keep the two
# modalities simulated here. :func:`ketephys.pipeline.run` reads every recording,
# analyses it, caches the result (a second run only recomputes what changed), fits the
# decays and writes the tables and an HTML report. ``ketephys run config.yaml`` does the
# same from the command line (see :ref:`tut-batch`). We run serially (``n_jobs=1``,
# overriding the config's ``n_jobs: 2``): worker processes are *spawned*, and a spawned
# worker re-imports the script that started it, so a plain script that starts workers
# must keep that code under ``if __name__ == "__main__":``; the command line has no such
# caveat.

config = yaml.safe_load(demo_config_text())
config["modalities"] = {m: v for m, v in config["modalities"].items() if m in ("eeg", "fepsp")}
config["longitudinal"]["fits"] = [f for f in config["longitudinal"]["fits"]
                                  if f["modality"] in ("eeg", "fepsp")]
print(yaml.safe_dump(config, sort_keys=False))
cfg = config_from_dict(config, base_dir=workdir)
result = run(cfg, out=workdir, n_jobs=1)
print(f"{result.n_computed} recordings analysed, {result.n_failed} failed; outputs:",
      sorted(p.name for p in result.paths.values()))
assert result.ok

# %%
# 3. The feature table
# --------------------
# Every analyser writes tidy rows: one measurement per row, with the study metadata
# carried along, the unit, quality flags and a hash of the settings. This is the table
# to share or to analyse with your own statistics.

features = result.features
print(features[["subject", "session", "region", "hours_since_dose", "modality", "measure",
                "channel", "value", "unit"]].head(8).to_string(index=False))
print(features.groupby(["modality", "measure"]).size().head(12))

# %%
# The decay table
# ---------------
# One row per fit and region: ``tau_h`` with its 95 % confidence interval (profile
# likelihood, small-sample calibrated), the half-life, the time until the effect is
# below 10 % of its peak (``t10_h``), the between-subject variability and whether tau is
# identifiable from these visits. Beside it, the simulated truth.

fits = result.fits
print(fits[["fit", "region", "tau_h", "tau_ci_low_h", "tau_ci_high_h", "half_life_h",
            "t10_h", "n_subjects", "identifiable"]].round(1).to_string(index=False))
versus = compare_with_truth(fits, truth)
print(versus.round(1).to_string(index=False))
assert len(versus) == 2 and versus["ci_contains_truth"].all()

# %%
# With six subjects the intervals are wide: the point of the interval is to say so.
# The hippocampal LTP decays faster than prefrontal gamma, as simulated; whether that
# difference is established by six subjects is what :ref:`tut-decay` shows how to test.

# %%
# 4. The figures
# --------------
# Each fit can draw the data (one line per subject), the fitted typical course and its
# confidence band. The same figures, with the PSDs, TEPs and LTP courses of each visit,
# are in ``report.html`` in the output folder.

for fit_config, _table, decay in result.fit_results:
    fig = decay.plot()
    fig.suptitle(f"{fit_config.measure} ({fit_config.modality})", fontsize=10)
    fig.tight_layout()
    plt.show()

report = result.paths.get("report")
print("report:", report.name if report else "(none)",
      f"{report.stat().st_size / 1e3:.0f} kB" if report else "")

shutil.rmtree(workdir, ignore_errors=True)
