"""``ketephys demo``: one run (module fixture) gives the tables, the report, and
per-region decay time constants whose CIs contain the simulated truth."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketephys.cli import main
from ketephys.pipeline.demo import DEMO_STUDY, TAU_COLUMNS


def _compare_demo():
    """``benchmarks/compare_demo.py``, the before/after check of the demo's numbers."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_demo.py"
    spec = importlib.util.spec_from_file_location("compare_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert "src=\"http" not in text
    # the only scripts are the JSON data behind the figures (never executed)
    assert text.count("<script") == text.count('<script type="application/json"')
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


def _figure_data(text: str) -> list[dict]:
    import re

    return [json.loads(m) for m in re.findall(
        r'<script type="application/json" class="figure-data">(.*?)</script>', text, re.S)]


def test_demo_report_draws_the_run_tables(demo):
    """The numbers behind the report's figures are the run's: PSD band means equal the
    gamma_power mean rows, the LTP course gives features' ltp_magnitude_pct, each decay
    figure's taus are decay_fits.csv's."""
    import numpy as np

    out, _ = demo
    data = _figure_data((out / "report.html").read_text())
    feats = pd.read_parquet(out / "features.parquet")
    fits = pd.read_csv(out / "decay_fits.csv")
    kinds = {d["kind"] for d in data}
    assert {"psd", "ltp", "decay"} <= kinds
    n_psd = 0
    for d in (d for d in data if d["kind"] == "psd"):
        for visit in d["visits"]:
            row = feats[(feats.recording == visit["recording"])
                        & (feats.measure == "gamma_power") & (feats.channel == "mean")]
            assert len(row) == 1
            assert visit["band_power_channel_mean"] == pytest.approx(row.value.iloc[0],
                                                                     rel=1e-12)
            n_psd += 1
    assert n_psd >= 2
    for d in (d for d in data if d["kind"] == "ltp"):
        for course in d["courses"]:
            rows = feats[(feats.recording == course["recording"])
                         & (feats.measure == "ltp_magnitude_pct")]
            np.testing.assert_allclose(sorted(rows.value), sorted(course["ltp_magnitude_pct"]),
                                       rtol=1e-12)
    checked = 0
    for d in (d for d in data if d["kind"] == "decay"):
        taus = pd.DataFrame(d["taus"])
        mine = fits[(fits.measure == d["measure"])
                    & ((fits.modality == d["modality"]) if d["modality"] else True)]
        merged = taus.merge(mine, on="region", suffixes=("_fig", ""))
        assert len(merged) == len(taus) > 0
        np.testing.assert_allclose(merged.tau_h_fig, merged.tau_h, rtol=1e-9)
        checked += 1
    assert checked >= 4


def test_compare_demo_reports_planted_differences():
    compare = _compare_demo().compare
    old = pd.DataFrame({"recording": ["a", "a", "b"], "measure": ["x", "y", "x"],
                        "value": [1.0, 2e-3, np.nan], "note": ["p", "q", None]})
    shuffled = old.iloc[[2, 0, 1]].reset_index(drop=True)
    assert compare(old, shuffled) == ([], (0.0, ""))
    tiny = old.assign(value=[1.0 + 1e-13, 2e-3, np.nan])  # within 1e-12 of max(1, |old|)
    problems, (size, _) = compare(old, tiny)
    assert problems == [] and 0 < size <= 1e-12
    for new, column in [(old.assign(value=[1.0 + 1e-9, 2e-3, np.nan]), "value"),
                        (old.assign(value=[1.0, 2e-3, 0.0]), "value"),  # NaN -> number
                        (old.assign(note=["p", "q", "r"]), "note")]:
        problems, _ = compare(old, new)
        assert len(problems) == 1 and problems[0].startswith(f"{column}: 1 values differ")
    assert "only new ['extra']" in compare(old, old.assign(extra=1.0))[0][0]
    assert compare(old, old.assign(extra=1.0), ignore=("extra",))[0] == []
    assert "3 rows before, 2 after" in compare(old, old.iloc[:2])[0][-1]


def test_compare_demo_on_the_demo_tables(demo, tmp_path, capsys):
    """The script on two copies of the demo output: "same" (exit 0), then a value changed
    by 1e-9 relative in each table is found (exit 1)."""
    out, _ = demo
    script = _compare_demo()
    copy = tmp_path / "copy"
    copy.mkdir()
    feats = pd.read_parquet(out / "features.parquet")
    fits = pd.read_csv(out / "decay_fits.csv")
    feats.sample(frac=1.0, random_state=0).to_parquet(copy / "features.parquet")
    fits.to_csv(copy / "decay_fits.csv", index=False)
    assert script.main([str(out), str(copy)]) == 0
    assert capsys.readouterr().out.count(": same") == 2
    for table, column in ((feats, "value"),
                          (fits, next(c for c in fits.columns if c != "value" and
                                      pd.api.types.is_float_dtype(fits[c]) and
                                      fits[c].notna().any()))):
        row = table[column].first_valid_index()
        table.loc[row, column] += 1e-9 * max(1.0, abs(table.loc[row, column]))
    feats.to_parquet(copy / "features.parquet")
    fits.to_csv(copy / "decay_fits.csv", index=False)
    assert script.main([str(out), str(copy)]) == 1
    printed = capsys.readouterr().out
    assert printed.count("DIFFERENT") == 2
    assert printed.count(": 1 values differ") == 2
