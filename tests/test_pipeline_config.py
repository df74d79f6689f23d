"""Configuration schema: defaults, did-you-mean on misspelled keys, clear value errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ketephys.errors import ConfigError
from ketephys.pipeline.config import (
    PipelineConfig,
    RunConfig,
    config_from_dict,
    example_config,
    load_config,
)
from ketephys.pipeline.discovery import RecordingSpec
from ketephys.pipeline.tasks import build_task

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
        "pipeline_plugins:tiny_analyse": {"scael": 2.0}}}}
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert "modalities.lfp.pipeline_plugins:tiny_analyse.scael" in str(err.value)
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


def test_base_dir_is_absolute():
    assert Path(config_from_dict(MINIMAL).base_dir).is_absolute()


# The cache key of a recording is RecordingTask.key, built by build_task from the
# recording (path, content hashes, metadata) and the analysis settings of its modality.
SPEC = RecordingSpec("/data/s01_pfc_0h.npy", "lfp", {"subject": "s01"}, "glob")
HASHES = [("/data/s01_pfc_0h.npy", "0" * 64)]
ANALYSIS = {
    "inputs": {"manifest": "manifest.csv", "reader": "ketephys.io:read"},
    "modalities": {"lfp": {"spectral": {}, "pipeline_plugins:tiny_analyse":
                           {"scale": 2.0}},
                   "eeg": {"spectral": {}}},
}
#: A non-default value of every execution setting (every field of ``run``), and of the
#: sections that do not touch a recording's rows (report, decay fits, study name).
EXECUTION = {
    "run": {"n_jobs": 3, "scheduler": "tcp://10.0.0.1:8786", "scheduler_file": "s.json",
            "cluster": "slurm", "slurm": {"queue": "short", "jobs": 4},
            "on_error": "abort", "cache": False, "out": "elsewhere"},
    "report": {"enabled": False, "title": "T", "views": False},
    "longitudinal": {"fits": [{"measure": "gamma_power"}]},
    "study": "another name",
}


def _key(data: dict, spec: RecordingSpec = SPEC, hashes=HASHES) -> str:
    return build_task(config_from_dict(data), spec, hashes).key


def test_every_execution_setting_is_tested_for_the_cache_key():
    assert set(EXECUTION["run"]) == set(RunConfig.model_fields)


@pytest.mark.parametrize("section", sorted(EXECUTION))
def test_execution_settings_do_not_change_the_cache_key(section):
    assert _key({**ANALYSIS, section: EXECUTION[section]}) == _key(ANALYSIS)


def _changed(path: tuple[str, ...], value) -> dict:
    data = copy.deepcopy(ANALYSIS)
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value", [
    (("modalities", "lfp", "pipeline_plugins:tiny_analyse", "scale"), 3.0),
    (("modalities", "lfp", "spectral", "bands"), ["theta"]),
    (("modalities", "lfp", "synaptic"), {}),
    (("inputs", "reader"), "pipeline_plugins:tiny_read"),
    (("inputs", "read_options", "lfp"), {"sfreq": 250.0}),
])
def test_analysis_settings_of_the_modality_change_the_cache_key(path, value):
    assert _key(_changed(path, value)) != _key(ANALYSIS)


@pytest.mark.parametrize("path, value", [
    (("modalities", "eeg", "spectral", "bands"), ["theta"]),  # another modality's analyser
    (("inputs", "read_options", "eeg"), {"sfreq": 250.0}),  # another modality's reading
    (("modalities", "lfp", "spectral", "bands"), ["gamma"]),  # the default, written out
])
def test_settings_that_do_not_reach_the_recording_keep_the_cache_key(path, value):
    assert _key(_changed(path, value)) == _key(ANALYSIS)


def test_the_recording_itself_changes_the_cache_key():
    moved = RecordingSpec("/elsewhere/s01_pfc_0h.npy", "lfp", SPEC.meta, "glob")
    relabelled = RecordingSpec(SPEC.path, "lfp", {"subject": "s02"}, "glob")
    assert len({_key(ANALYSIS), _key(ANALYSIS, hashes=[(SPEC.path, "1" * 64)]),
                _key(ANALYSIS, spec=moved), _key(ANALYSIS, spec=relabelled)}) == 4
