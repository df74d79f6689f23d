"""Configuration schema: defaults, did-you-mean on misspelled keys, clear value errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ketephys.errors import ConfigError
from ketephys.pipeline.config import (
    PipelineConfig,
    config_from_dict,
    example_config,
    load_config,
)

MINIMAL = {"inputs": {"manifest": "manifest.csv"}}


def test_defaults_are_documented_and_applied():
    cfg = config_from_dict(MINIMAL)
    assert cfg.run.n_jobs == 1
    assert cfg.run.on_error == "continue"
    assert cfg.run.cache is True
    assert cfg.longitudinal.fits == []
    # every field of every section has a description (the documented default)
    for model in (PipelineConfig, type(cfg.inputs), type(cfg.run), type(cfg.run.slurm),
                  type(cfg.report)):
        for name, field in model.model_fields.items():
            if name in ("inputs", "longitudinal", "run", "report"):
                continue
            assert field.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize("data, path, suggestion", [
    ({"inputs": {"manifest": "m.csv"}, "modalites": {}}, "'modalites'", "'modalities'"),
    ({"inputs": {"manfest": "m.csv"}}, "'inputs.manfest'", "'manifest'"),
    ({"inputs": {"manifest": "m.csv"}, "run": {"n_job": 2}}, "'run.n_job'", "'n_jobs'"),
    ({"inputs": {"manifest": "m.csv"}, "run": {"slurm": {"qeue": "x"}}},
     "'run.slurm.qeue'", "'queue'"),
    ({"inputs": {"manifest": "m.csv"},
      "longitudinal": {"fits": [{"measure": "g", "covariate": ["dose"]}]}},
     "'longitudinal.fits[0].covariate'", "'covariates'"),
])
def test_misspelled_key_names_path_and_suggestion(data, path, suggestion):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    text = str(err.value)
    assert path in text
    assert f"did you mean {suggestion}" in text


def test_misspelled_modality_and_analyser_are_suggested():
    with pytest.raises(ConfigError, match="did you mean 'fepsp'"):
        config_from_dict({**MINIMAL, "modalities": {"fespp": {"synaptic": {}}}})
    with pytest.raises(ConfigError, match="did you mean 'spectral'"):
        config_from_dict({**MINIMAL, "modalities": {"eeg": {"spectrl": {}}}})


def test_unknown_analyser_setting_is_suggested(tmp_path):
    # the analyser's signature (no **kwargs) gives the settings it accepts
    data = {**MINIMAL, "modalities": {"lfp": {
        "test_pipeline_helpers:tiny_analyse": {"scael": 2.0}}}}
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert "modalities.lfp.test_pipeline_helpers:tiny_analyse.scael" in str(err.value)
    assert "did you mean 'scale'" in str(err.value)


def test_bad_values_fail_with_path():
    with pytest.raises(ConfigError, match="run.on_error"):
        config_from_dict({**MINIMAL, "run": {"on_error": "ignore"}})
    with pytest.raises(ConfigError, match="exactly one of"):
        config_from_dict({"inputs": {"manifest": "a.csv", "glob": "*.edf"}})
    with pytest.raises(ConfigError, match="n_jobs"):
        config_from_dict({**MINIMAL, "run": {"n_jobs": 0}})


def test_load_config_relative_paths_and_errors(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    cfg = load_config(path)
    assert cfg.resolve(cfg.inputs.manifest) == (tmp_path / "manifest.csv").resolve()
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("inputs: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_example_config_is_complete_and_valid(tmp_path):
    text = example_config()
    data = yaml.safe_load(text)
    # every section and every key of the schema appears in the example
    def keys(model, prefix=""):
        out = set()
        for name, field in model.model_fields.items():
            if name == "base_dir":
                continue
            out.add(prefix + name)
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, PipelineConfig.__base__) \
                    and name != "fits":
                out |= keys(ann, prefix + name + ".")
        return out

    def present(d, prefix=""):
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict) and k not in ("modalities", "metadata", "read_options",
                                                 "bids_modalities", "options"):
                out |= present(v, prefix + k + ".")
        return out

    missing = keys(PipelineConfig) - present(data)
    assert not missing, f"example config lacks {sorted(missing)}"
    assert "#" in text  # commented
    (tmp_path / "manifest.csv").write_text("path\n")
    (tmp_path / "example.yaml").write_text(text)
    load_config(tmp_path / "example.yaml")


def test_execution_settings_not_in_analysis_settings():
    a = config_from_dict({**MINIMAL, "run": {"n_jobs": 1}})
    b = config_from_dict({**MINIMAL, "run": {"n_jobs": 2, "scheduler": "tcp://x:1"}})
    assert a.analysis_settings() == b.analysis_settings()
    assert Path(a.base_dir).is_absolute()
