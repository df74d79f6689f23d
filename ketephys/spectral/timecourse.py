"""Time-resolved band power and coherence for continuous recordings of any length.

Each window (``window_s`` s, every ``step_s`` s; only complete windows) is analysed exactly
as the whole-recording functions would analyse that span alone (segments start at the
window's start), streaming the data in batches, so peak memory does not grow with the
recording's duration. With ``step_s == window_s`` (default) every sample is transformed
once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from ..errors import AnalysisError
from ..features import feature_table, settings_hash
from ..recording import Recording
from ..settings import check_keywords
from .analyse import spectral_rows
from .fft import SpectralSettings

__all__ = ["band_power_timecourse", "coherence_timecourse", "spectral_timecourse",
           "iter_windows"]

#: Former parameter names of the time-course functions (ketephys 0.1).
_RENAMED = {"window": "window_s", "step": "step_s"}


@check_keywords(renamed=_RENAMED)
@fill_doc
def iter_windows(rec: Recording, window_s: float, step_s: float | None = None
                 ) -> Iterator[tuple[int, int]]:
    """The complete windows of a continuous recording.

    Parameters
    ----------
    rec : Recording
        A continuous recording.
    %(window_s)s
    %(step_s)s

    Yields
    ------
    start, stop : int
        First and past-the-end sample of each window.

    Raises
    ------
    AnalysisError
        An episodic recording, a non-positive length or step, or a window longer than the
        recording.
    """
    if rec.is_episodic:
        raise AnalysisError("time-resolved analysis needs a continuous recording",
                            rec.source.path)
    if window_s <= 0:
        raise AnalysisError(f"window_s must be > 0 s, got {window_s}", rec.source.path)
    step_s = window_s if step_s is None else step_s
    if step_s <= 0:
        raise AnalysisError(f"step_s must be > 0 s, got {step_s}", rec.source.path)
    n_win = int(round(window_s * rec.sfreq))
    n_step = int(round(step_s * rec.sfreq))
    if n_win > rec.n_times:
        raise AnalysisError(f"window {window_s} s is longer than the recording "
                            f"({rec.duration:.6g} s)", rec.source.path)
    for s0 in range(0, rec.n_times - n_win + 1, n_step):
        yield s0, s0 + n_win


@check_keywords(renamed=_RENAMED)
@fill_doc
def spectral_timecourse(
    rec: Recording,
    bands: Sequence[Any] = ("gamma",),
    kinds: Sequence[str] = ("absolute",),
    coherence_band: Any = "theta",
    pairs: Any = "all",
    measures: Sequence[str] = ("msc",),
    window_s: float = 60.0,
    step_s: float | None = None,
    aperiodic: str | None = None,
    line_freq: Any = None,
    picks: Any = None,
    *,
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    bandwidth: float | None = None,
    precision: str = "float64",
    reject: float | None = None,
    reject_by_annotation: bool = True,
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Band powers and coherence per window from one pass of FFTs per window.

    Each window is analysed as :func:`~ketephys.spectral.analyse.analyse` analyses a
    recording (per channel and pair, no mean rows); a window whose segments are all
    rejected gives one row ``measure="window"`` with value NaN and the flag
    ``all_segments_rejected``.

    Parameters
    ----------
    rec : Recording
        A continuous recording (may be lazy).
    %(bands)s
        ``()`` skips band power.
    %(kinds)s
    %(coherence_band)s
    %(pairs)s
    %(measures)s
    %(window_s)s
    %(step_s)s
    %(aperiodic)s
    %(line_freq)s
    %(picks)s
    %(method)s
    %(seg_len)s
    %(overlap)s
    %(bandwidth)s
    %(precision)s
    %(reject)s
    %(reject_by_annotation)s
    %(total_band)s
    %(fit_range)s

    Returns
    -------
    pandas.DataFrame
        A feature table with ``window_start`` and ``window_stop`` (s) columns; the
        settings (and ``settings_hash``) include ``window_s`` and ``step_s``.
    """
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                bandwidth=bandwidth, precision=precision, reject=reject,
                                reject_by_annotation=reject_by_annotation)
    frames: list[pd.DataFrame] = []
    sett: dict[str, Any] = {}
    modality = rec.modality
    # rows become a small table per window (dicts per row would grow ~1 kB a row)
    for s0, s1 in iter_windows(rec, window_s, step_s):
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
        sett.update(window_s=window_s, step_s=window_s if step_s is None else step_s)
        frames.append(feature_table(win_rows, rec, modality, sett))
    table = pd.concat(frames, ignore_index=True)
    table["settings_hash"] = settings_hash(sett)  # same for every window (a fully
    return table                                  # rejected first window had no settings)


@check_keywords(lambda: spectral_timecourse, renamed=_RENAMED)
@fill_doc
def band_power_timecourse(
    rec: Recording, band: Any = "gamma", window_s: float = 60.0, step_s: float | None = None,
    kind: str = "absolute", aperiodic: str | None = None, line_freq: Any = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Band power per channel per window (see :func:`spectral_timecourse`).

    Parameters
    ----------
    rec : Recording
        A continuous recording.
    band : str or (lo, hi)
        Preset name (resolved for the modality) or Hz, edges inclusive.
    %(window_s)s
    %(step_s)s
    kind : {"absolute", "relative"}
        V^2, or the fraction of the power in ``total_band``.
    %(aperiodic)s
        With a mode, only the corrected rows are returned.
    %(line_freq)s
    **kwargs
        Other keywords of :func:`spectral_timecourse` (``picks``, ``method``,
        ``seg_len``...).

    Returns
    -------
    pandas.DataFrame
        One row per channel and window (``window_start``, ``window_stop`` in s).
    """
    out = spectral_timecourse(rec, bands=(band,), kinds=(kind,), coherence_band=None,
                              window_s=window_s, step_s=step_s, aperiodic=aperiodic,
                              line_freq=line_freq, **kwargs)
    if aperiodic:
        out = out[out["measure"].str.endswith(("_aperiodic_corrected",
                                                "_aperiodic_corrected_relative"))]
    return out.reset_index(drop=True)


@check_keywords(lambda: spectral_timecourse, renamed=_RENAMED)
@fill_doc
def coherence_timecourse(
    rec: Recording, band: Any = "theta", window_s: float = 60.0,
    step_s: float | None = None, pairs: Any = "all", measure: str = "msc", **kwargs: Any,
) -> pd.DataFrame:
    """Band-averaged coherence per pair per window (see :func:`spectral_timecourse`).

    Parameters
    ----------
    rec : Recording
        A continuous recording with two or more channels.
    band : str or (lo, hi)
        Coherence band (name resolved for the modality, or Hz).
    %(window_s)s
    %(step_s)s
    %(pairs)s
    measure : {"msc", "coh", "imcoh", "wpli", "plv"}
        The coherence measure.
    **kwargs
        Other keywords of :func:`spectral_timecourse` (``picks``, ``method``,
        ``seg_len``...).

    Returns
    -------
    pandas.DataFrame
        One row per pair and window (``window_start``, ``window_stop`` in s).
    """
    return spectral_timecourse(rec, bands=(), coherence_band=band, pairs=pairs,
                               measures=(measure,), window_s=window_s, step_s=step_s,
                               **kwargs)
