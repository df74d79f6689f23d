"""Cases where a number used to go missing or wrong without a word: duplicated TMS pulses,
an fEPSP recording whose LTP cannot be measured, one unfittable region in a script."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketephys import longitudinal, synaptic, tms
from ketephys.recording import Recording
from ketephys.simulate import simulate_fepsp_experiment, simulate_tms_eeg


def test_duplicated_tms_pulse_is_flagged(caplog):
    rec, _ = simulate_tms_eeg(n_channels=8, n_trials=20, seed=1)
    rec = tms.mark_tms_pulses(rec)
    ev = rec.events
    dup = ev[ev.description == "tms_pulse"].iloc[[3]].assign(onset=lambda d: d.onset + 0.001)
    twice = Recording(rec.get_data(), rec.sfreq, rec.ch_names, ch_types=rec.ch_types,
                      units=rec.units, modality="tms-eeg",
                      events=pd.concat([ev, dup]).sort_values("onset").reset_index(drop=True))
    clean = tms.analyse(rec, tep_options={"n_permutations": 0})
    with caplog.at_level("WARNING"):
        dirty = tms.analyse(twice, tep_options={"n_permutations": 0})
    assert not clean.qc_flags.str.contains("close_pulses").any()
    assert dirty.qc_flags.str.contains("close_pulses").all()
    assert "1 pulse(s) follow the previous one" in caplog.text
    # the check lives in tep() itself, so a script calling it directly is told too
    assert tms.tep(tms.clean(twice), n_permutations=0).counts["n_close_pulses"] == 1


def test_fepsp_without_measurable_ltp_says_so(caplog):
    rec, truth = simulate_fepsp_experiment(n_baseline_min=10, n_post_min=30,
                                           sweep_interval=30.0, seed=3)
    after = np.flatnonzero(rec.sweep_starts > rec.sweep_starts[0] + 11 * 60)
    post_only = rec.pick_sweeps(after)
    with caplog.at_level("WARNING"):
        rows = synaptic.analyse(post_only)
    assert not rows.measure.str.startswith("ltp_").any()
    assert rows.qc_flags.str.contains("ltp_not_measured").all()
    assert "no LTP summary" in caplog.text


def test_one_unfittable_group_keeps_the_others_in_a_script():
    rng = np.random.default_rng(0)
    rows = []
    for region, n_subjects in (("PFC", 5), ("STR", 2)):
        for s in range(n_subjects):
            for h in (-1.0, 2.0, 24.0, 72.0, 168.0):
                v = (2.0 * np.exp(-h / 60.0) if h > 0 else 0.0) + rng.normal(0, 0.05)
                rows.append({"subject": f"{region}{s}", "region": region,
                             "hours_since_dose": h, "value": v})
    summary, fit = longitudinal.fit_decay_by_group(pd.DataFrame(rows))
    by = summary.set_index("region")
    assert np.isfinite(by.loc["PFC", "tau_h"]) and "3 subjects" in by.loc["STR", "error"]
