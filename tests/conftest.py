"""Shared fixtures: the real recordings in ../shared/data (skipped when absent) and the
writer of small Axona trials.

Test modules take what they need as fixtures (``shared_file``, ``shared_data``,
``shared_data_root``, ``write_axona_trial``); no test module imports another, nor this one.
Every fixture writes only into pytest's ``tmp_path``/``tmp_path_factory`` folders.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

_REPO = Path(__file__).resolve().parents[1]
#: Real recordings live beside the repository, never inside it.
SHARED_DATA = Path(os.environ.get("KETEPHYS_SHARED_DATA", _REPO.parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """Path of a file in ../shared/data; skip the test with the reason when it is absent.

    Kept as a plain function for the modules that still ``from conftest import
    shared_file``; new tests take the ``shared_file`` fixture instead.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recording {path} not present (../shared/data is absent on this machine)")
    return path


@pytest.fixture(name="shared_file")
def shared_file_fixture() -> Callable[..., Path]:
    """``shared_file("eeg", "testbva.vhdr")``: the path of a real recording in
    ../shared/data; the test is skipped, with the reason, when the file is absent."""
    return shared_file


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real-data tests need ../shared/data")
    return SHARED_DATA


@pytest.fixture
def shared_data_root() -> Path:
    """Where the real recordings are expected (``$KETEPHYS_SHARED_DATA`` or
    ../shared/data), whether or not the folder exists: for tests of the fallback when
    they are absent."""
    return SHARED_DATA


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
