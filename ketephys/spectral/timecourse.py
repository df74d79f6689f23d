"""Time-resolved band power and coherence for continuous recordings of any length.

Each window (``window`` s, every ``step`` s; only complete windows) is analysed exactly as
the whole-recording functions would analyse that span alone (segments start at the
window's start), streaming the data in batches, so peak memory does not grow with the
recording's duration. With ``step == window`` (default) every sample is transformed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..features import feature_table, settings_hash
from ..recording import Recording
from .analyse import spectral_rows
from .fft import SpectralSettings

__all__ = ["band_power_timecourse", "coherence_timecourse", "spectral_timecourse",
           "iter_windows"]


def iter_windows(rec: Recording, window: float, step: float | None = None
                 ) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` samples of the complete windows."""
    if rec.is_episodic:
        raise AnalysisError("time-resolved analysis needs a continuous recording",
                            rec.source.path)
    if window <= 0:
        raise AnalysisError(f"window must be > 0 s, got {window}", rec.source.path)
    step = window if step is None else step
    if step <= 0:
        raise AnalysisError(f"step must be > 0 s, got {step}", rec.source.path)
    n_win = int(round(window * rec.sfreq))
    n_step = int(round(step * rec.sfreq))
    if n_win > rec.n_times:
        raise AnalysisError(f"window {window} s is longer than the recording "
                            f"({rec.duration:.6g} s)", rec.source.path)
    for s0 in range(0, rec.n_times - n_win + 1, n_step):
        yield s0, s0 + n_win


def spectral_timecourse(
    rec: Recording,
    bands: Sequence[Any] = ("gamma",),
    kinds: Sequence[str] = ("absolute",),
    coherence_band: Any = "theta",
    pairs: Any = "all",
    measures: Sequence[str] = ("msc",),
    window: float = 60.0,
    step: float | None = None,
    aperiodic: str | None = None,
    line_freq: Any = None,
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    bandwidth: float | None = None,
    picks: Any = None,
    reject: float | None = None,
    reject_by_annotation: bool = True,
    precision: str = "float64",
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Band powers and coherence per window from one pass of FFTs per window.

    Returns a feature table with ``window_start`` and ``window_stop`` (s) columns; other
    parameters as :func:`~ketephys.spectral.analyse.analyse` (``coherence_band=None``
    skips coherence, ``bands=()`` skips band power).
    """
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                bandwidth=bandwidth, precision=precision, reject=reject,
                                reject_by_annotation=reject_by_annotation)
    frames: list[pd.DataFrame] = []
    sett: dict[str, Any] = {}
    modality = rec.modality
    # rows become a small table per window (dicts per row would grow ~1 kB a row)
    for s0, s1 in iter_windows(rec, window, step):
        try:
            win_rows, sett = spectral_rows(
                rec, settings, bands, kinds, aperiodic, coherence_band, pairs, measures,
                line_freq, total_band, fit_range, picks, start=s0, stop=s1, add_mean=False)
        except AnalysisError as err:
            if "no segment left" not in str(err):
                raise
            win_rows = [{"measure": "window", "channel": None, "value": np.nan, "unit": "1",
                         "flags": ["all_segments_rejected"]}]
        for r in win_rows:
            r["window_start"] = s0 / rec.sfreq
            r["window_stop"] = s1 / rec.sfreq
        sett.update(window=window, step=window if step is None else step)
        frames.append(feature_table(win_rows, rec, modality, sett))
    table = pd.concat(frames, ignore_index=True)
    table["settings_hash"] = settings_hash(sett)  # same for every window (a fully
    return table                                  # rejected first window had no settings)


def band_power_timecourse(
    rec: Recording, band: Any = "gamma", window: float = 60.0, step: float | None = None,
    kind: str = "absolute", aperiodic: str | None = None, line_freq: Any = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Band power per channel per window (see :func:`spectral_timecourse`)."""
    out = spectral_timecourse(rec, bands=(band,), kinds=(kind,), coherence_band=None,
                              window=window, step=step, aperiodic=aperiodic,
                              line_freq=line_freq, **kwargs)
    if aperiodic:
        out = out[out["measure"].str.endswith(("_aperiodic_corrected",
                                                "_aperiodic_corrected_relative"))]
    return out.reset_index(drop=True)


def coherence_timecourse(
    rec: Recording, band: Any = "theta", window: float = 60.0, step: float | None = None,
    pairs: Any = "all", measure: str = "msc", **kwargs: Any,
) -> pd.DataFrame:
    """Band-averaged coherence per pair per window (see :func:`spectral_timecourse`)."""
    return spectral_timecourse(rec, bands=(), coherence_band=band, pairs=pairs,
                               measures=(measure,), window=window, step=step, **kwargs)
