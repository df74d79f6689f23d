"""Shared fixtures: the real recordings in ../shared/data (skipped when absent), the
writers of a small Axona trial and of a small BIDS dataset, and a home for Hypothesis.

Test modules take what they need as fixtures (``shared_file``, ``shared_data``,
``shared_data_root``, ``write_axona_trial``, ``bids_dataset``); no test module imports
another, nor this one (``tests/test_architecture.py`` checks it). Every fixture writes
only into pytest's ``tmp_path``/``tmp_path_factory`` folders, and so does Hypothesis: its
example database and caches go to pytest's temporary base folder, not to
``.hypothesis/`` in the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

_REPO = Path(__file__).resolve().parents[1]
#: Real recordings live beside the repository, never inside it.
_SHARED_DATA = Path(os.environ.get("KETEPHYS_SHARED_DATA", _REPO.parent / "shared" / "data"))


def _existing_shared_file(*parts: str) -> Path:
    """Path of a file in ../shared/data; skip the test with the reason when it is absent."""
    path = _SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recording {path} is absent (real recordings are read from "
                    f"../shared/data, or from $KETEPHYS_SHARED_DATA when it is set)")
    return path


@pytest.hookimpl(trylast=True)  # after pytest's tmpdir plug-in has made its factory
def pytest_configure(config: pytest.Config) -> None:
    """Point Hypothesis's storage (example database, unicode and constants caches) at
    ``hypothesis/`` in pytest's temporary base folder instead of ``.hypothesis/`` in the
    working directory (the repository when pytest runs from its root). Done here, not in
    a fixture: the Hypothesis plug-in already writes its constants cache while
    collecting."""
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # Hypothesis is a test extra: without it nothing writes there
        return
    # the factory the tmp_path_factory fixture returns; absent under -p no:tmpdir
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        set_hypothesis_home_dir(factory.mktemp("hypothesis", numbered=False))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give Hypothesis back its default storage (for runs of ``pytest.main`` in one
    process)."""
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="session", autouse=True)
def _dask_scratch_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Dask's ``temporary-directory`` (where every scheduler and worker made in a test,
    e.g. by a SLURM or local cluster, keeps ``dask-scratch-space/``) is a pytest
    temporary folder for the session, not the system's temporary folder."""
    try:
        import dask
    except ImportError:  # the cluster extras are optional
        yield
        return
    with dask.config.set({"temporary-directory": str(tmp_path_factory.mktemp("dask"))}):
        yield


@pytest.fixture(scope="session")
def shared_file() -> Callable[..., Path]:
    """``shared_file("eeg", "testbva.vhdr")``: the path of a real recording in
    ../shared/data; the test is skipped, with the reason, when the file is absent.
    Session-scoped, so module-scoped fixtures may take it."""
    return _existing_shared_file


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not _SHARED_DATA.is_dir():
        pytest.skip(f"{_SHARED_DATA} is absent: real-data tests need ../shared/data")
    return _SHARED_DATA


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """Where the real recordings are expected (``$KETEPHYS_SHARED_DATA`` or
    ../shared/data), whether or not the folder exists: for tests of the fallback when
    they are absent, and for tests that check several files before skipping once."""
    return _SHARED_DATA


def _axona_trial(folder: Path, stem: str = "trial", n: int = 5000, sfreq: float = 250.0,
                 gains: tuple[int, ...] = (6000, 5000, 2500),
                 channels: tuple[int, ...] = (4, 9, 28), seed: int = 0,
                 bytes_per_sample: int = 1, egf: bool = False) -> tuple[Path, np.ndarray]:
    """Write an Axona trial in the dacqUSB layout into ``folder``: ``<stem>.set`` (gains,
    ADC range) and one ``.eeg``/``.eegN`` (or ``.egf``) file per channel, each a 9 Hz sine
    plus noise in int8 (or int16) steps. ``sfreq=0`` writes a bad header (the samples are
    then made at 250 Hz). Returns the ``.set`` path and the integer samples
    (channels x n)."""
    rng = np.random.default_rng(seed)
    lines = ["trial_date Tuesday, 14 Dec 2010", "trial_time 10:44:07", "ADC_fullscale_mv 1500"]
    for k, (ch, gain) in enumerate(zip(channels, gains), start=1):
        lines += [f"gain_ch_{ch - 1} {gain}", f"EEG_ch_{k} {ch}", f"saveEEG_ch_{k} 1"]
    setfile = folder / f"{stem}.set"
    setfile.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    samples = []
    kind = "egf" if egf else "eeg"
    n_key = "num_EGF_samples" if egf else "num_EEG_samples"
    dtype = np.int8 if bytes_per_sample == 1 else np.dtype("<i2")
    lim = 127 if bytes_per_sample == 1 else 32767
    t = np.arange(n) / (sfreq if sfreq > 0 else 250.0)
    for k in range(1, len(channels) + 1):
        x = np.clip(np.round(lim * 0.6 * np.sin(2 * np.pi * 9.0 * t + k)
                             + rng.normal(scale=lim * 0.05, size=n)), -lim, lim).astype(dtype)
        header = (f"trial_date Tuesday, 14 Dec 2010\r\ntrial_time 10:44:07\r\n"
                  f"num_chans 1\r\nsample_rate {sfreq:.1f} hz\r\n"
                  f"bytes_per_sample {bytes_per_sample}\r\n{n_key} {n}      \r\n"
                  "data_start").encode()
        suffix = f".{kind}" if k == 1 else f".{kind}{k}"
        (folder / f"{stem}{suffix}").write_bytes(header + x.tobytes() + b"\r\ndata_end\r\n")
        samples.append(x)
    return setfile, np.array(samples)


@pytest.fixture(scope="session")
def write_axona_trial() -> Callable[..., tuple[Path, np.ndarray]]:
    """``write_axona_trial(folder, n=5000, sfreq=250.0, ...)``: write a small Axona trial
    into ``folder`` (a ``tmp_path``); returns the ``.set`` path and the integer samples."""
    return _axona_trial


def _bids_dataset(root: Path, scratch: Path) -> None:
    """Write a small BIDS EEG dataset at ``root``: subject 01, sessions ``pre``, ``24h``
    and ``4h`` of task ``rest`` (Fz, Cz, EOG at 256 Hz, 10 s of noise, via EDF files
    first written into ``scratch``); participants.tsv gains ``genotype`` and
    ``condition``, and sub-01_sessions.tsv holds ``hours_post_infusion`` (-1, 24, 4)
    and ``dose_mg_per_kg`` (0.5)."""
    import mne
    import pandas as pd
    from mne_bids import BIDSPath, write_raw_bids

    from ketephys import Recording
    from ketephys.io import write

    rng = np.random.default_rng(5)
    for ses in ("pre", "24h", "4h"):
        info_ = mne.create_info(["Fz", "Cz", "EOG"], 256.0, ["eeg", "eeg", "eog"])
        raw = mne.io.RawArray(rng.normal(scale=1e-5, size=(3, 2560)), info_, verbose=False)
        write(Recording.from_mne(raw), scratch / f"src_{ses}.edf", overwrite=True)
        src = mne.io.read_raw_edf(scratch / f"src_{ses}.edf", verbose=False)
        src.set_channel_types({"EOG": "eog"})
        write_raw_bids(src, BIDSPath(root=root, subject="01", session=ses, task="rest"),
                       overwrite=True, verbose=False)
    part = pd.read_csv(root / "participants.tsv", sep="\t")
    part["genotype"] = "Val/Met"
    part["condition"] = "ketamine"
    part.to_csv(root / "participants.tsv", sep="\t", index=False)
    pd.DataFrame({"session_id": ["ses-pre", "ses-24h", "ses-4h"],
                  "hours_post_infusion": [-1.0, 24.0, 4.0],
                  "dose_mg_per_kg": [0.5, 0.5, 0.5]}).to_csv(
        root / "sub-01" / "sub-01_sessions.tsv", sep="\t", index=False)


@pytest.fixture
def bids_dataset(tmp_path: Path) -> Path:
    """A small BIDS EEG dataset written into ``tmp_path / "bids"`` (subject 01, sessions
    ``pre``/``24h``/``4h``, task ``rest``, with participants and sessions tables; see
    ``_bids_dataset``); returns its root."""
    root = tmp_path / "bids"
    _bids_dataset(root, tmp_path)
    return root
