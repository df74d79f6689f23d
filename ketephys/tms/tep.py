"""TMS-evoked potentials: epoching around the pulses, averaging, GMFP/LMFP and peaks.

Epochs run from ``round(tmin * sfreq)`` to ``round(tmax * sfreq)`` samples around each pulse
(both included, as in MNE), are baseline-corrected by the mean over ``baseline`` (both ends
included) and rejected when their peak-to-peak amplitude on any channel exceeds ``reject``
(V). The TEP is the plain mean of the kept epochs (identical to ``mne.Epochs.average()``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._result import ResultMixin, channel_indices
from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from .clean import CleanResult, pulse_onsets
from .gmfp import GMFP_DDOF, gmfp, lmfp, roi_average
from .peaks import DEFAULT_WINDOWS, find_peaks, peak_null, peaks_table

__all__ = ["tep", "TEPResult", "epoch_pulses"]

logger = logging.getLogger(__name__)


def close_pulses(onsets: np.ndarray, span: float) -> tuple[int, str]:
    """How many pulses follow the previous one within ``span`` seconds (one epoch: a
    duplicated event, or a paired-pulse protocol that single-pulse TEPs mix up), and
    why that matters ("" when none do)."""
    gaps = np.diff(np.sort(np.asarray(onsets, float)))
    n = int(np.sum(gaps < span))
    if not n:
        return 0, ""
    return n, (f"{n} pulse(s) follow the previous one within the epoch span ({span:g} s; "
               f"closest {1e3 * gaps.min():.3g} ms): duplicated events or paired pulses "
               "average into each other's epochs")


@fill_doc
def epoch_pulses(
    rec: Recording,
    onsets: np.ndarray,
    tmin: float,
    tmax: float,
    baseline: tuple[float, float] | None,
    reject: float | None = None,
    picks: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Cut epochs around pulse onsets.

    Parameters
    ----------
    rec : Recording
        Continuous recording.
    onsets : ndarray
        Pulse onsets (s from the recording start).
    %(epoch_limits)s
    %(epoch_baseline)s
    %(epoch_reject)s
    picks : sequence of int, optional
        Channel indices (default every channel).

    Returns
    -------
    epochs : ndarray, shape (n_trials, n_channels, n_times)
        The kept epochs (baseline-corrected when ``baseline`` is given).
    times : ndarray, shape (n_times,)
        Epoch times (s relative to the pulse).
    kept_onsets : ndarray
        Onsets of the kept epochs (s).
    counts : dict of str to int
        ``n_pulses``, ``n_outside`` (too close to an edge) and ``n_rejected``
        (peak-to-peak above ``reject``).

    Raises
    ------
    AnalysisError
        An empty epoch span, or a baseline holding no sample of it.
    """
    sfreq = rec.sfreq
    i0, i1 = int(round(tmin * sfreq)), int(round(tmax * sfreq))
    if i1 <= i0:
        raise AnalysisError(f"epoch window tmin={tmin}, tmax={tmax} is empty",
                            rec.source.path)
    times = np.arange(i0, i1 + 1) / sfreq
    samples = np.round(np.asarray(onsets, float) * sfreq).astype(int)
    inside = (samples + i0 >= 0) & (samples + i1 < rec.n_times)
    samples_in = samples[inside]
    idx = picks if picks is not None else list(range(rec.n_channels))
    data = rec.get_data(list(idx))
    ep = data[:, samples_in[:, None] + np.arange(i0, i1 + 1)[None, :]]  # (ch, tr, t)
    ep = np.ascontiguousarray(np.moveaxis(ep, 1, 0))
    if baseline is not None:
        b = (times >= baseline[0] - 1e-9) & (times <= baseline[1] + 1e-9)
        if not b.any():
            raise AnalysisError(f"baseline {baseline} holds no sample of the epoch "
                                f"{tmin}..{tmax} s", rec.source.path)
        ep -= ep[:, :, b].mean(axis=2, keepdims=True)
    keep = np.ones(len(ep), bool)
    if reject is not None:
        keep = np.ptp(ep, axis=2).max(axis=1) <= reject
    counts = {"n_pulses": int(len(samples)), "n_outside": int((~inside).sum()),
              "n_rejected": int((~keep).sum())}
    return ep[keep], times, samples_in[keep] / sfreq, counts


@fill_doc
@dataclass(repr=False)
class TEPResult(ResultMixin):
    """A TMS-evoked potential and its measures.

    Shares the result surface of MNE's ``Evoked``: :meth:`get_data`,
    :meth:`to_data_frame`, :meth:`plot`, :meth:`copy` and a short repr.

    Attributes
    ----------
    evoked : mne.Evoked
        The averaged response (V), ``nave`` = trials kept.
    times : ndarray
        Seconds relative to the pulse.
    gmfp : ndarray
        GMFP (standard deviation across channels, ddof = 0), V.
    lmfp : ndarray or None
        LMFP over ``roi`` (root mean square across ROI channels), V.
    roi_signal : ndarray or None
        Signed mean across the ROI channels, V.
    peaks : DataFrame
        One row per component x (channel, ``"ROI"``, ``"GMFP"``): ``latency_ms``,
        ``amplitude`` (V), ``found``, ``significant``, ``p_value``, window.
    n_trials : int
        Trials averaged.
    epochs : ndarray
        ``(n_trials, n_channels, n_times)`` baseline-corrected trials (V).
    ch_names : list of str
    sfreq : float
    roi : list of str or None
    counts : dict
        Pulses found, outside the recording, rejected, and ``n_close_pulses`` (pulses
        within one epoch span of the previous one, warned about: see
        :func:`close_pulses`).
    settings : dict
    """

    evoked: Any
    times: np.ndarray
    gmfp: np.ndarray
    lmfp: np.ndarray | None
    roi_signal: np.ndarray | None
    peaks: pd.DataFrame
    n_trials: int
    epochs: np.ndarray
    ch_names: list[str]
    sfreq: float
    roi: list[str] | None
    counts: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def average(self) -> np.ndarray:
        """The averaged response ``(n_channels, n_times)`` (V)."""
        return self.evoked.data

    def get_data(self, picks: Any = None, tmin: float | None = None,
                 tmax: float | None = None) -> np.ndarray:
        """The averaged response (as ``mne.Evoked.get_data``).

        Parameters
        ----------
        picks : str, int or list, optional
            Channels (default all).
        tmin, tmax : float, optional
            Time range (s relative to the pulse, inclusive).

        Returns
        -------
        ndarray, shape (n_picks, n_times)
            V.
        """
        keep = np.ones(self.times.size, bool)
        if tmin is not None:
            keep &= self.times >= tmin - 1e-12
        if tmax is not None:
            keep &= self.times <= tmax + 1e-12
        return self.average[channel_indices(self.ch_names, picks)][:, keep]

    def to_data_frame(self, long_format: bool = True) -> pd.DataFrame:
        """The averaged response as a table.

        Parameters
        ----------
        long_format : bool
            True: ``time`` (s), ``channel``, ``value`` (V), ``unit``; False: a ``time``
            column and one column per channel (V).

        Returns
        -------
        pandas.DataFrame
        """
        avg = self.average
        if not long_format:
            wide = pd.DataFrame(avg.T, columns=list(self.ch_names))
            wide.insert(0, "time", self.times)
            return wide
        return pd.DataFrame({"time": np.tile(self.times, len(self.ch_names)),
                             "channel": np.repeat(self.ch_names, self.times.size),
                             "value": avg.ravel(), "unit": "V"})

    def plot(self, show: bool | None = None) -> Any:
        """Butterfly of every channel, GMFP with its peaks marked, and the ROI signal
        with its peaks when the TEP has an ROI.

        Parameters
        ----------
        %(show)s

        %(returns_figure)s
        """
        from ..viz.tms import plot_tep

        return plot_tep(self, show)

    def _repr_parts(self) -> list[str]:
        t = self.times
        return [f"{len(self.ch_names)} ch x {t.size} times ({t[0]:g}..{t[-1]:g} s)",
                f"{self.n_trials} trials", f"{self.sfreq:g} Hz", "V",
                f"ROI {len(self.roi)} ch" if self.roi else "no ROI",
                f"{int(self.peaks['found'].astype(bool).sum())} peaks found",
                f"baseline {self.settings.get('baseline')}"]

    def peak(self, component: str, channel: str = "GMFP") -> pd.Series:
        """The row of :attr:`peaks` of one component.

        Parameters
        ----------
        component : str
            Component name (``"N100"``...).
        channel : str
            A channel name, ``"ROI"`` or ``"GMFP"``.

        Returns
        -------
        pandas.Series
            The peak row (latency, amplitude, found, significant, p_value...).

        Raises
        ------
        AnalysisError
            No such row.
        """
        rows = self.peaks[(self.peaks["component"] == component)
                          & (self.peaks["channel"] == channel)]
        if rows.empty:
            raise AnalysisError(f"no peak row for {component} at {channel}")
        return rows.iloc[0]


@check_keywords()
@fill_doc
def tep(
    rec: Recording | CleanResult,
    tmin: float = -0.5,
    tmax: float = 0.5,
    baseline: tuple[float, float] | None = (-0.5, -0.01),
    reject: float | None = None,
    roi: Sequence[str] | None = None,
    windows: Mapping[str, tuple[float, float]] | None = None,
    n_neighbours: int = 5,
    n_permutations: int = 500,
    alpha: float = 0.05,
    seed: int | None = 0,
) -> TEPResult:
    """Average the cleaned EEG around each TMS pulse and measure the TEP.

    Parameters
    ----------
    rec : Recording or CleanResult
        Cleaned continuous EEG (:func:`ketephys.tms.clean`) with ``tms_pulse`` events.
    %(epoch_limits)s
    %(epoch_baseline)s
    %(epoch_reject)s
    roi : list of str, optional
        Channels of a region of interest: its signed average gets peaks (channel ``"ROI"``)
        and its LMFP is computed.
    windows : dict, optional
        Component windows (s); default :data:`~ketephys.tms.peaks.DEFAULT_WINDOWS`.
    n_neighbours : int
        Peak must exceed this many samples on each side.
    n_permutations : int
        Sign-flip permutations for the significance flag (0 disables it; ``significant``
        is then False and ``p_value`` NaN).
    alpha : float
        Significance level.
    seed : int, optional
        Seed of the permutations.

    Returns
    -------
    TEPResult
    """
    import mne

    if isinstance(rec, CleanResult):
        rec = rec.recording
    path = rec.source.path
    if rec.is_episodic:
        raise AnalysisError("tep needs a continuous recording with tms_pulse events", path)
    windows = dict(DEFAULT_WINDOWS if windows is None else windows)
    onsets = pulse_onsets(rec)
    picks = [i for i, t in enumerate(rec.ch_types) if t == "eeg"] or [
        i for i, t in enumerate(rec.ch_types) if t != "stim"]
    names = [rec.ch_names[i] for i in picks]
    ep, times, _, counts = epoch_pulses(rec, onsets, tmin, tmax, baseline, reject, picks)
    n_close, why = close_pulses(onsets, float(times[-1] - times[0]))
    if n_close:
        logger.warning("%s: %s", path or "in-memory recording", why)
    counts["n_close_pulses"] = n_close
    if len(ep) == 0:
        raise AnalysisError(f"no epoch left ({counts}); check the pulses and reject", path)
    avg = ep.mean(axis=0)
    info = mne.create_info(names, rec.sfreq, "eeg", verbose=False)
    evoked = mne.EvokedArray(avg, info, tmin=times[0], nave=len(ep), comment="TEP",
                             verbose=False)
    g = gmfp(avg)
    roi_list = list(roi) if roi is not None else None
    lm = roi_sig = None
    if roi_list:
        lm = lmfp(avg, names, roi_list)
        roi_sig = roi_average(avg, names, roi_list)
    null = None
    if n_permutations and len(ep) > 1:
        transforms: list[tuple[str, object, bool]] = [
            ("channels", lambda a: a, False),
            ("GMFP", lambda a: gmfp(a)[:, None, :], True),
        ]
        if roi_list:
            transforms.append(("ROI", lambda a: roi_average(a, names, roi_list)[:, None, :],
                               False))
        null = peak_null(ep, times, windows, transforms, n_permutations, seed)
    parts = [peaks_table(find_peaks(avg, times, windows, n_neighbours), names, windows, null,
                         "channels", alpha)]
    if roi_list:
        parts.append(peaks_table(find_peaks(roi_sig[None], times, windows, n_neighbours),
                                 ["ROI"], windows, null, "ROI", alpha))
    parts.append(peaks_table(find_peaks(g[None], times, windows, n_neighbours, True),
                             ["GMFP"], windows, null, "GMFP", alpha, positive_only=True))
    peaks = pd.concat(parts, ignore_index=True)
    settings = {"tmin": tmin, "tmax": tmax, "baseline": baseline, "reject": reject,
                "roi": roi_list, "windows": windows, "n_neighbours": n_neighbours,
                "n_permutations": n_permutations, "alpha": alpha, "seed": seed,
                "gmfp_ddof": GMFP_DDOF}
    logger.info("TEP from %d trials (%s)", len(ep), counts)
    return TEPResult(evoked, times, g, lm, roi_sig, peaks, int(len(ep)), ep, names,
                     rec.sfreq, roi_list, counts, settings)
