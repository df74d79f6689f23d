"""``ketephys demo``: one run (module fixture) gives the tables, the report, and
per-region decay time constants whose CIs contain the simulated truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ketephys.cli import main
from ketephys.pipeline.demo import DEMO_STUDY, TAU_COLUMNS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "ketephys-demo"
    status = main(["demo", "--out", str(out), "--n-jobs", "2", "-q"])
    return out, status


def test_demo_writes_every_output(demo):
    out, status = demo
    assert status == 0, (out / "failures.csv").read_text()
    for name in ("features.parquet", "features.csv", "decay_fits.csv", "failures.csv",
                 "provenance.json", "report.html", "demo_truth_vs_estimate.csv"):
        assert (out / name).is_file(), name
    feats = pd.read_parquet(out / "features.parquet")
    manifest = pd.read_csv(out / "data" / "manifest.csv")
    assert feats["recording"].nunique() == len(manifest)
    assert set(feats["modality"]) == set(DEMO_STUDY["modalities"])
    assert pd.read_csv(out / "failures.csv").empty
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["inputs"]) == len(manifest)


def test_demo_report_is_self_contained(demo):
    out, _ = demo
    text = (out / "report.html").read_text()
    assert text.count("data:image/png;base64,") >= 6
    assert "src=\"http" not in text and "<script" not in text
    for word in ("Decay per region", "PSD per visit", "TEP butterfly", "LTP time course"):
        assert word in text, word


def test_demo_taus_contain_truth(demo):
    out, _ = demo
    fits = pd.read_csv(out / "decay_fits.csv")
    truth = json.loads((out / "data" / "truth.json").read_text())
    t, lo, hi = TAU_COLUMNS
    table = pd.read_csv(out / "demo_truth_vs_estimate.csv")
    # LFP: one fit per region (PFC, HPC, STR); EEG: PFC; fEPSP: HPC
    assert len(table) >= 5
    assert set(table["region"]) == {"PFC", "HPC", "STR"}
    for _, row in table.iterrows():
        true = truth["regions"][row["region"]]["tau_h"]
        assert row["true_tau_h"] == true
        assert row["ci_low"] <= true <= row["ci_high"], row.to_dict()
        assert row["ci_low"] < row["tau_h"] < row["ci_high"]
    assert fits[t].notna().all() and (fits[lo] < fits[hi]).all()


def test_fit_subcommand_reproduces_pipeline_fit(demo, tmp_path):
    # `ketephys fit` on features.csv (fit_decay's own averaging) = the pipeline's fit
    out, _ = demo
    summary = tmp_path / "fit.csv"
    assert main(["fit", str(out / "features.csv"), "--measure", "ltp_magnitude_pct",
                 "--covariates", "dose", "--out", str(summary)]) == 0
    direct = pd.read_csv(summary)
    fits = pd.read_csv(out / "decay_fits.csv")
    mine = fits[fits["fit"] == "ltp_magnitude_pct/fepsp"]
    assert len(direct) == len(mine) == 1
    for col in ("tau_h", "tau_ci_low_h", "tau_ci_high_h"):
        assert direct[col].item() == pytest.approx(mine[col].item(), rel=1e-6)
