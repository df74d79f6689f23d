"""Shared fixtures: the real recordings in ../shared/data, skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

_REPO = Path(__file__).resolve().parents[1]
#: Real recordings live beside the repository, never inside it.
SHARED_DATA = Path(os.environ.get("KETEPHYS_SHARED_DATA", _REPO.parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """Path of a file in ../shared/data; skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recording {path} not present (../shared/data is absent on this machine)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real-data tests need ../shared/data")
    return SHARED_DATA
