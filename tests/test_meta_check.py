"""Metadata is checked before anything runs (new-user finding 3 and 8; R51, R55-R59).

Unknown manifest columns, sidecar keys and ``meta=`` keys are errors with a suggestion
unless declared as extras; every value is checked with its real source (manifest file and
row); identifiers stay text; ``config --check`` lists every problem.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketephys.cli import main
from ketephys.errors import KetephysError, MetadataError
from ketephys.meta import META_COLUMNS, PRE_DOSE_HOURS, StudyMeta, parse_hours
from ketephys.pipeline import config_from_dict, run
from ketephys.pipeline.discovery import from_manifest

TINY = (  # peak absolute sample: a known number per recording
    "import numpy as np\nfrom ketephys import feature_table\n"
    "def analyse(rec):\n"
    "    return feature_table([{'measure': 'peak', 'channel': 'mean', 'unit': 'V',"
    " 'value': float(np.abs(rec.get_data()).max())}], recording=rec, modality='lfp')\n")


@pytest.fixture
def study(tmp_path, monkeypatch):
    """Three small .npy recordings with sidecars and an importable tiny analyser."""
    (tmp_path / "kp_meta_tiny.py").write_text(TINY)
    monkeypatch.syspath_prepend(str(tmp_path))
    raw = tmp_path / "raw"
    raw.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.save(raw / f"r{i}.npy", rng.normal(scale=1e-5, size=(2, 200)))
        (raw / f"r{i}.json").write_text(json.dumps({"sfreq": 100, "units": "V",
                                                    "ch_types": "lfp"}))
    return tmp_path


def write_study(root, rows, **inputs):
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    cfg = {"inputs": {"manifest": "manifest.csv", "modality": "lfp", **inputs},
           "modalities": {"lfp": {"kp_meta_tiny:analyse": {}}}, "report": {"enabled": False}}
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


# ------------------------------------------------------------------- time and dose
@pytest.mark.parametrize("text, hours", [
    ("-1h", -1.0), ("24 h", 24.0), ("2 hours", 2.0), ("1d", 24.0), ("3 days", 72.0),
    ("120min", 2.0), ("pre", PRE_DOSE_HOURS), ("baseline", PRE_DOSE_HOURS), ("24", 24.0),
    (" 1.5 hr ", 1.5), ("2 weeks", 336.0)])
def test_documented_time_forms(text, hours):
    assert parse_hours(text) == hours
    meta = StudyMeta.from_sources([("manifest", {"hours_since_dose": text})])
    assert meta.hours_since_dose == hours


def test_pre_dose_is_before_the_dose():
    assert PRE_DOSE_HOURS < 0  # the decay fits take time < 0 as the pre-dose baseline


@pytest.mark.parametrize("field, value", [
    ("hours_since_dose", "one day"), ("hours_since_dose", "24 min later"),
    ("hours_since_dose", "2m"), ("dose_mg_per_kg", "0,5"), ("hours_since_dose", "2,5"),
    ("hours_since_dose", True), ("dose_mg_per_kg", False), ("infusion", True),
    ("dose_mg_per_kg", "500 ug/kg"), ("subject", True)])
def test_bad_values_are_errors_naming_field_and_source(field, value):
    with pytest.raises(MetadataError) as err:
        StudyMeta.from_sources([("sidecar", {field: value})], path="x.json")
    assert field in str(err.value) and "from sidecar" in str(err.value)
    assert str(err.value).startswith("x.json: ")


def test_decimal_comma_in_a_manifest_names_file_and_row(study, capsys):
    cfg = write_study(study, [{"path": "raw/r0.npy", "subject": "01", "dose_mg_per_kg": "0.5"},
                              {"path": "raw/r1.npy", "subject": "02", "dose_mg_per_kg": "0,5"}])
    assert main(["run", str(cfg), "--out", str(study / "o"), "-q"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{study / 'manifest.csv'}: metadata field 'dose_mg_per_kg' from manifest row 3 " \
        "must be a number" in err
    assert "from keyword" not in err and "decimal comma" in err
    assert not (study / "o" / "features.csv").exists()  # nothing ran


# ------------------------------------------------------------- unknown names
def test_typo_columns_are_errors_with_a_suggestion_and_nothing_runs(study, capsys):
    cfg = write_study(study, [{"path": f"raw/r{i}.npy", "subject": f"0{i}", "regoin": "PFC",
                               "hours_since_dos": 24} for i in range(3)])
    assert main(["run", str(cfg), "--out", str(study / "o"), "-q"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown metadata column 'regoin'" in err and "did you mean 'region'?" in err
    assert "'hours_since_dos'" in err and "did you mean 'hours_since_dose'?" in err
    assert not (study / "o" / "features.csv").exists()


def test_declared_extras_reach_the_features_and_fits(study):
    cfg = write_study(study, [{"path": f"raw/r{i}.npy", "subject": f"0{i}", "sex": "FMF"[i],
                               "age": 10 + i} for i in range(3)], extra_columns=["sex", "age"])
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=study),
              out=study / "o")
    assert res.ok
    feats = pd.read_csv(study / "o" / "features.csv", dtype=str).set_index("subject")
    assert feats.loc["01", "sex"] == "M" and feats.loc["02", "age"] == "12"
    from ketephys.pipeline.config import FitConfig
    from ketephys.pipeline.fits import fit_table

    table = fit_table(res.features, FitConfig(measure="peak", covariates=["sex"]))
    assert list(table.sort_values("subject")["sex"]) == ["F", "M", "F"]


def test_sidecar_keys_are_checked_against_the_declared_extras(study):
    side = study / "raw" / "r0.json"
    side.write_text(json.dumps({"sfreq": 100, "units": "V", "ch_types": "lfp",
                                "meta": {"sex": "F", "hours": 24}}))
    cfg = write_study(study, [{"path": f"raw/r{i}.npy", "subject": f"0{i}"} for i in range(3)],
                      extra_columns=["sex"])
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=study),
              out=study / "o")
    assert res.n_failed == 1
    assert res.failures[0]["error_type"] == "MetadataError"
    assert "unknown metadata key 'hours' from sidecar" in res.failures[0]["message"]
    side.write_text(json.dumps({"sfreq": 100, "units": "V", "ch_types": "lfp",
                                "meta": {"sex": "F"}}))
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=study),
              out=study / "o")
    assert res.ok and res.features.set_index("subject").loc["00", "sex"] == "F"


def test_keyword_meta_keys_are_checked_when_extras_are_given():
    with pytest.raises(MetadataError, match="'hours'.*did you mean 'hours_since_dose'"):
        StudyMeta.from_sources([("keyword", {"hours": 24})], extras=[])
    with pytest.raises(MetadataError, match="'subj'.*did you mean 'subject'"):
        StudyMeta.from_sources([("keyword", {"subj": "x"})], extras=["sex"])
    meta = StudyMeta.from_sources([("keyword", {"sex": "F", "subject": 7})], extras=["sex"])
    assert meta.extras == {"sex": "F"} and meta.subject == "7"
    # a checked meta object passed on (as meta= to a reader) checks the sidecar too
    with pytest.raises(MetadataError, match="'age' from sidecar"):
        StudyMeta.from_sources([("keyword", meta), ("sidecar", {"age": 3})])
    with pytest.raises(MetadataError, match="must be a mapping"):
        StudyMeta.from_sources([("sidecar", "x")], extras=[])


def test_ids_stay_text(study):
    cfg = write_study(study, [{"path": "raw/r0.npy", "subject": "02", "session": "007"},
                              {"path": "raw/r1.npy", "subject": "2", "session": "7"}])
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=study),
              out=study / "o")
    assert sorted(res.features["subject"]) == ["02", "2"]
    assert sorted(res.features["session"]) == ["007", "7"]


# -------------------------------------------------------------- config --check
def test_config_check_lists_every_problem(study, capsys):
    (study / "raw" / "bad.npy").write_bytes(b"not an array at all")
    (study / "raw" / "bad.json").write_text(json.dumps({"sfreq": 100, "units": "V"}))
    cfg = write_study(study, [
        {"path": "raw/r0.npy", "subject": "01", "regoin": "PFC", "hours_since_dose": "24h"},
        {"path": "raw/r1.npy", "subject": "02", "regoin": "PFC", "hours_since_dose": "2,5"},
        {"path": "raw/missing.npy", "subject": "03", "regoin": "", "hours_since_dose": "1d"},
        {"path": "raw/bad.npy", "subject": "04", "regoin": "", "hours_since_dose": "pre"}])
    assert main(["config", "--check", str(cfg)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "4 problem(s)" in err
    assert "unknown metadata column 'regoin'" in err
    assert "manifest row 3" in err and "'2,5'" in err
    assert "missing.npy" in err and "no such file" in err
    assert "bad.npy" in err
    # analyser settings come from the settings contract (validate_analysers)
    text = yaml.safe_load(cfg.read_text())
    text["modalities"]["lfp"] = {"spectral": {"bands": ["gama"]}}
    cfg.write_text(yaml.safe_dump(text))
    assert main(["config", "--check", str(cfg)]) == 2
    assert "gama" in capsys.readouterr().err


def test_config_check_calls_the_analyser_hook(study, monkeypatch):
    from ketephys.pipeline import check

    cfg = write_study(study, [{"path": "raw/r0.npy", "subject": "01"}])
    import ketephys.pipeline.config as config_module

    loaded = config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=study)
    assert check.check_config(loaded)[1] == []
    monkeypatch.setattr(config_module, "validate_analysers", lambda cfg: ["hook problem"])
    assert check.check_config(loaded)[1] == ["hook problem"]


def test_config_check_passes_a_good_study(study, capsys):
    cfg = write_study(study, [{"path": f"raw/r{i}.npy", "subject": f"0{i}",
                               "hours_since_dose": "3 days"} for i in range(3)])
    assert main(["config", "--check", str(cfg)]) == 0
    assert "valid; 3 recordings found" in capsys.readouterr().out


# ------------------------------------------------------ hypothesis over the schema
_FIELDS = [c for c in META_COLUMNS]
_cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
            max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["24h", "-1 h", "1d", "120min", "pre", "baseline", "0,5", "true",
                     "nan", "inf", "1e400", "3 days", "0.5 mg/kg", " 02 ", "2m", ""]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(_FIELDS), value=_cell)
def test_any_manifest_value_gives_correct_metadata_or_an_error_naming_it(tmp_path, field,
                                                                         value):
    csv = tmp_path / "manifest.csv"
    pd.DataFrame([{"path": "a.npy", "subject": "01", field: value}]
                 if field != "subject" else [{"path": "a.npy", field: value}]).to_csv(
        csv, index=False)
    try:
        specs = from_manifest(csv, default_modality="lfp")
    except KetephysError as err:
        text = str(err)
        assert field in text and "row 2" in text and str(csv) in text, text
        return
    got = specs[0].meta.get(field)
    raw = value.strip()
    if not raw:
        assert got is None
    elif field in ("dose_mg_per_kg", "hours_since_dose"):
        assert isinstance(got, float) and math.isfinite(got)
        if field == "dose_mg_per_kg":
            assert got >= 0
        try:
            assert got == float(raw)  # plain numbers are taken as they are
        except ValueError:
            pass
    elif field == "infusion":
        assert isinstance(got, int) and got >= 1 and got == float(raw)
    else:
        assert got == raw  # text, never a number: "02" stays "02"
    assert os.path.basename(specs[0].path) == "a.npy"
