"""`ketephys fit` subcommand: long table with a measure column -> summary CSV."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketephys.longitudinal import fit_decay
from ketephys.longitudinal.cli import main, register
from ketephys.simulate.markers import simulate_marker_study


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory):
    table, _ = simulate_marker_study(n_subjects=12, regions=("PFC", "HPC"), seed=21)
    table["measure"] = "gamma_power"
    other = table.assign(measure="theta_coh", value=0.2)
    path = tmp_path_factory.mktemp("cli") / "features.csv"
    pd.concat([table, other]).to_csv(path, index=False)
    return path, table


def test_cli_filters_measure_and_writes_summary(long_csv, capsys):
    path, table = long_csv
    out = path.with_name("fits.csv")
    assert main([str(path), "--value", "gamma_power", "--group", "region", "--ci", "none",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tau_h" in printed and "PFC" in printed
    got = pd.read_csv(out).set_index("region")
    ref = fit_decay(table, ci="none").summary().set_index("region")
    np.testing.assert_allclose(got.loc[ref.index, "tau_h"], ref["tau_h"], rtol=1e-9)


def test_cli_register_adds_fit_subcommand(long_csv):
    path, _ = long_csv
    parser = argparse.ArgumentParser(prog="ketephys")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["fit", str(path), "--value", "gamma_power", "--ci", "none"])
    assert args.func(args) == 0
    assert path.with_name("features_decay_fits.csv").exists()


def test_cli_reports_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    bad = tmp_path / "t.csv"
    pd.DataFrame({"subject": ["a"], "hours_since_dose": [1.0], "x": [1.0]}).to_csv(bad)
    assert main([str(bad), "--value", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_cli_baseline_mode_flag_and_the_renamed_one(long_csv, capsys):
    """``--baseline-mode estimate`` fits E0; the former ``--baseline`` is a usage error
    naming the new flag (argparse would otherwise take it as an abbreviation)."""
    path, _ = long_csv
    out = path.with_name("estimate.csv")
    assert main([str(path), "--value", "gamma_power", "--ci", "none", "--baseline-mode",
                 "estimate", "--out", str(out)]) == 0
    assert pd.read_csv(out)["baseline_estimated"].all()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--value", "gamma_power", "--baseline", "estimate"])
    assert exc.value.code == 2
    assert "--baseline was renamed --baseline-mode" in capsys.readouterr().err


def test_cli_through_the_ketephys_command(long_csv):
    if not (Path(__file__).resolve().parents[1] / "ketephys" / "cli.py").exists():
        pytest.skip("ketephys/cli.py (the pipeline's command) is not there yet")
    path, _ = long_csv
    out = path.with_name("fits_cmd.csv")
    res = subprocess.run([sys.executable, "-m", "ketephys.cli", "fit", str(path), "--value",
                          "gamma_power", "--ci", "none", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0 and "invalid choice: 'fit'" in res.stderr:
        pytest.skip("ketephys/cli.py does not register the 'fit' subcommand yet")
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(out)) == 2
