"""TMS-EEG cleaning: pulse-window removal, decay removal, resampling, filtering, reference.

Order of operations (each step optional, each recorded in :attr:`CleanResult.history`):

1. pulses: the ``tms_pulse`` events, or :func:`ketephys.tms.find_tms_pulses`;
2. first removal window (``remove``, default -2..10 ms) at the original rate;
3. ``decay="exponential"``: the decay is fitted and subtracted *before* interpolating, so
   the interpolation is anchored on decay-free samples. By default the fit uses only the
   samples from 3 ms to the end of the removal window (``decay_options={"fit_window":
   (0.003, 0.010)}``): the pulse artifact is over by then and no cortical response has
   started (the reason the window is removed), so the TEP cannot leak into the fit.
   ``{"fit_window": "after"}`` fits 100 ms after the removed window instead (TESA-like; the
   early TEP then leaks into the fit: N15 came out ~25 % small on the default simulation);
4. interpolation across the first window (``interp``, from ``fit_window`` either side);
5. resampling to ``resample`` Hz (polyphase, with its anti-aliasing low-pass; only ever
   down) -- after removal, so the anti-aliasing filter never sees the pulse;
6. ``decay="ica"``: MNE ICA on the resampled epochs, decay components removed;
7. zero-phase FIR band-pass ``l_freq``-``h_freq`` and line-noise notches (the artifact is
   already gone, so the filters have nothing to smear);
8. average reference (``reference="average"``) or a list of reference channels;
9. second removal window (``second_pass``, default -2..15 ms) re-interpolated: this
   removes whatever the filters spread from the edges of the first window. It comes after
   the reference so that the bridge stays within each channel's neighbouring samples.

Only EEG channels are kept (a recording without EEG-typed channels uses all channels that
are not ``stim``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from .._docs import fill_doc
from .._result import ResultMixin
from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from .artifact import interpolate_windows, pulse_windows
from .decay import ArtifactDecay, remove_decay_exponential, remove_decay_ica
from .pulses import PULSE_DESCRIPTION, find_tms_pulses

__all__ = ["clean", "CleanResult", "pulse_onsets"]

logger = logging.getLogger(__name__)


@fill_doc
@dataclass(repr=False)
class CleanResult(ResultMixin):
    """A cleaned TMS-EEG recording and what was done to it.

    Shares the result surface: :meth:`get_data`, :meth:`to_data_frame`, :meth:`plot`,
    :meth:`copy` and a short repr.

    Attributes
    ----------
    recording : Recording
        Cleaned continuous EEG (only the processed channels), ``tms_pulse`` events kept.
    pulses : ndarray
        Pulse onsets (s).
    history : list of dict
        One entry per step: ``step`` and its settings/results.
    windows : dict
        ``"first"`` and ``"second"``: the removal windows (s relative to the pulse) used.
    decay : ArtifactDecay or None
        The decay removal record.
    """

    recording: Recording
    pulses: np.ndarray
    history: list[dict[str, Any]] = field(default_factory=list)
    windows: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    decay: ArtifactDecay | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The settings of every step (for hashing and provenance)."""
        return {h["step"]: {k: v for k, v in h.items() if k != "step"} for h in self.history}

    def get_data(self, picks: Any = None, start: int = 0, stop: int | None = None
                 ) -> np.ndarray:
        """Cleaned samples (as :meth:`ketephys.Recording.get_data`).

        Parameters
        ----------
        picks : str, int or list, optional
            Channels (default all).
        start, stop : int
            Samples.

        Returns
        -------
        ndarray, shape (n_picks, n)
            V.
        """
        return self.recording.get_data(picks, start, stop)

    def to_data_frame(self, picks: Any = None, start: int = 0, stop: int | None = None
                      ) -> pd.DataFrame:
        """Cleaned samples as a table: ``time`` (s) and one column per channel (V).

        Parameters
        ----------
        picks, start, stop
            As :meth:`get_data`.

        Returns
        -------
        pandas.DataFrame
        """
        rec = self.recording
        data = self.get_data(picks, start, stop)
        names = [rec.ch_names[i] for i in rec.pick_indices(picks)]
        frame = pd.DataFrame(data.T, columns=names)
        frame.insert(0, "time", (max(int(start), 0) + np.arange(data.shape[1])) / rec.sfreq)
        return frame

    def plot(self, tmin: float = -0.05, tmax: float = 0.15, show: bool | None = None) -> Any:
        """The cleaned EEG averaged around the pulses, removal windows shaded.

        Parameters
        ----------
        tmin, tmax : float
            Window around the pulses (s).
        %(show)s

        %(returns_figure)s
        """
        from ..viz.tms import plot_clean

        return plot_clean(self, tmin, tmax, show)

    def _repr_parts(self) -> list[str]:
        rec = self.recording
        return [f"{rec.n_channels} ch x {rec.n_times} samples @ {rec.sfreq:g} Hz (V)",
                f"{len(self.pulses)} pulses",
                "steps " + ", ".join(h["step"] for h in self.history),
                f"decay {self.decay.method if self.decay is not None else 'none'}"]


def pulse_onsets(rec: Recording, **find_kw: Any) -> np.ndarray:
    """Pulse onsets: the ``tms_pulse`` events, or pulses found in the data.

    Parameters
    ----------
    rec : Recording
        Continuous TMS-EEG.
    **find_kw
        Keywords of :func:`~ketephys.tms.find_tms_pulses`, used when there is no
        ``tms_pulse`` event.

    Returns
    -------
    ndarray
        Onsets (s from the recording start), sorted.
    """
    ev = rec.events
    mask = ev["description"] == PULSE_DESCRIPTION
    if mask.any():
        return np.sort(ev.loc[mask, "onset"].to_numpy(float))
    return find_tms_pulses(rec, **find_kw)["onset"].to_numpy(float)


def _eeg_picks(rec: Recording) -> list[int]:
    eeg = [i for i, t in enumerate(rec.ch_types) if t == "eeg"]
    return eeg or [i for i, t in enumerate(rec.ch_types) if t != "stim"]


def _check_window(name: str, win: Sequence[float] | None) -> tuple[float, float] | None:
    if win is None:
        return None
    if len(win) != 2 or not win[0] < win[1]:
        raise AnalysisError(f"{name} must be (start, stop) seconds with start < stop, got {win}")
    return float(win[0]), float(win[1])


@check_keywords()
def clean(
    rec: Recording,
    remove: Sequence[float] | None = (-0.002, 0.010),
    interp: str = "cubic",
    fit_window: float = 0.001,
    second_pass: Sequence[float] | None = (-0.002, 0.015),
    resample: float | None = 1000.0,
    l_freq: float | None = 1.0,
    h_freq: float | None = 100.0,
    line_freq: float | None = None,
    reference: str | Sequence[str] | None = "average",
    decay: str = "exponential",
    decay_options: dict[str, Any] | None = None,
    find_options: dict[str, Any] | None = None,
) -> CleanResult:
    """Clean a continuous TMS-EEG recording (see the module docstring for the order).

    Parameters
    ----------
    rec : Recording
        Continuous recording with ``tms_pulse`` events, or pulses that
        :func:`~ketephys.io.tms.find_tms_pulses` can find (``find_options``).
    remove : (float, float) or None
        First removal window around each pulse (s). None skips removal.
    interp : {"cubic", "polynomial", "linear", "constant"}
        Interpolation across removed windows (:mod:`ketephys.tms.artifact`); ``"cubic"`` is
        shape-preserving PCHIP, ``"polynomial"`` TESA's least-squares cubic.
    fit_window : float
        Seconds either side used by the interpolation (at least 2 samples).
    second_pass : (float, float) or None
        Window removed and re-interpolated after filtering. None skips it.
    resample : float or None
        Target rate (Hz); applied only when lower than the recording's rate.
    l_freq, h_freq : float or None
        Zero-phase FIR band-pass edges (Hz); None skips that side; ``h_freq`` at or above
        Nyquist is skipped (recorded).
    line_freq : float or None
        Notch out this frequency and its harmonics below Nyquist.
    reference : "average", list of channel names, or None
        Re-reference.
    decay : {"exponential", "ica", "none"}
        Decay artifact removal (:mod:`ketephys.tms.decay`).
    decay_options : dict, optional
        Keywords for the decay function; for ``"exponential"`` also ``fit_window``
        (s after the pulse, default ``(0.003, remove[1])``, or ``"after"``).
    find_options : dict, optional
        Keywords for :func:`~ketephys.io.tms.find_tms_pulses` when pulses are not in events.

    Returns
    -------
    CleanResult
    """
    path = rec.source.path
    if rec.is_episodic:
        raise AnalysisError("tms.clean needs a continuous recording (pulses in one stream), "
                            "got sweeps", path)
    check_option("decay", decay, ("exponential", "ica", "none"), path)
    remove = _check_window("remove", remove)
    second_pass = _check_window("second_pass", second_pass)
    history: list[dict[str, Any]] = []
    onsets = pulse_onsets(rec, **(find_options or {}))
    history.append({"step": "pulses", "n_pulses": int(len(onsets)),
                    "source": "events" if (rec.events["description"] == PULSE_DESCRIPTION).any()
                    else "find_tms_pulses", "find_options": dict(find_options or {})})
    picks = _eeg_picks(rec)
    if not picks:
        raise AnalysisError("no EEG channel to clean", path)
    names = [rec.ch_names[i] for i in picks]
    data = rec.get_data(picks).copy()
    if not np.all(np.isfinite(data)):
        raise AnalysisError("the EEG data contain NaN or infinite values", path)
    sfreq = rec.sfreq
    samples = np.round(onsets * sfreq).astype(int)
    decay_fit = None
    if remove is not None:
        decay_fit = _remove_step(data, sfreq, samples, names, remove, decay, decay_options,
                                 interp, fit_window, history, path)
    elif decay == "exponential":
        raise AnalysisError("decay='exponential' needs a removal window (remove=...)", path)
    data, sfreq = _resample_step(data, sfreq, resample, history)
    samples = np.round(onsets * sfreq).astype(int)
    if decay == "ica":
        window_end = remove[1] if remove is not None else 0.0
        decay_fit = remove_decay_ica(data, sfreq, samples, window_end, names,
                                     **(decay_options or {}))
        history.append({"step": "decay", "method": "ica", "excluded": decay_fit.corrected,
                        **{k: v for k, v in decay_fit.details.items() if k != "scores"}})
    elif decay == "none":
        history.append({"step": "decay", "method": "none"})
    data = _filter(data, sfreq, l_freq, h_freq, line_freq, history)
    _reference_step(data, names, reference, history, path)
    if second_pass is not None:
        win2 = pulse_windows(samples, sfreq, second_pass)
        skipped = interpolate_windows(data, win2, sfreq, interp, fit_window)
        history.append({"step": "second_pass", "window": second_pass, "interp": interp,
                        "fit_window": fit_window, "skipped_pulses": skipped})
    out = _cleaned_recording(rec, data, sfreq, picks, names, onsets)
    return CleanResult(out, onsets, history, {"first": remove, "second": second_pass},
                       decay_fit)


def _remove_step(data: np.ndarray, sfreq: float, samples: np.ndarray, names: list[str],
                 remove: tuple[float, float], decay: str,
                 decay_options: dict[str, Any] | None, interp: str, fit_window: float,
                 history: list[dict[str, Any]], path):
    """First pass, in place: the exponential decay fit (``decay="exponential"``), then
    removal and interpolation of ``remove`` around every pulse. Returns the decay fit (or
    None)."""
    win = pulse_windows(samples, sfreq, remove)
    decay_fit = None
    if decay == "exponential":
        decay_fit = _exponential_decay_step(data, sfreq, samples, names, remove,
                                            decay_options, history, path)
    skipped = interpolate_windows(data, win, sfreq, interp, fit_window)
    history.append({"step": "remove_interpolate", "window": remove, "interp": interp,
                    "fit_window": fit_window, "sfreq": sfreq, "skipped_pulses": skipped})
    return decay_fit


def _exponential_decay_step(data: np.ndarray, sfreq: float, samples: np.ndarray,
                            names: list[str], remove: tuple[float, float],
                            decay_options: dict[str, Any] | None,
                            history: list[dict[str, Any]], path):
    """Fit and subtract the exponential decay (in place) over its fit window (default
    ``(0.003, remove[1])``; ``"after"``: 100 ms after the removal window)."""
    opts = dict(decay_options or {})
    dwin = opts.pop("fit_window", (0.003, remove[1]))
    if dwin == "after":
        dwin = (remove[1] + 1.0 / sfreq, remove[1] + 0.1)
    dwin = _check_window("decay fit_window", dwin)
    if dwin[0] < 0:
        raise AnalysisError(f"decay fit_window {dwin} must start after the pulse", path)
    starts = samples + int(round(dwin[0] * sfreq))
    decay_fit = remove_decay_exponential(
        data, sfreq, starts, names, fit_length=dwin[1] - dwin[0],
        pulse_offset=starts - samples, **opts)
    decay_fit.details["fit_window"] = dwin
    history.append({"step": "decay", "method": "exponential",
                    "channels_corrected": len(decay_fit.corrected), **decay_fit.details})
    return decay_fit


def _resample_step(data: np.ndarray, sfreq: float, resample: float | None,
                   history: list[dict[str, Any]]) -> tuple[np.ndarray, float]:
    """Down-sample to ``resample`` Hz when lower than ``sfreq`` (else recorded as
    skipped)."""
    if resample is None or not resample < sfreq:
        history.append({"step": "resample", "skipped": True, "requested": resample,
                        "sfreq": sfreq})
        return data, sfreq
    from scipy.signal import resample_poly

    ratio = Fraction(resample / sfreq).limit_denominator(1000)
    new_sfreq = sfreq * ratio.numerator / ratio.denominator
    data = resample_poly(data, ratio.numerator, ratio.denominator, axis=1)
    history.append({"step": "resample", "from": sfreq, "to": new_sfreq,
                    "method": "scipy.signal.resample_poly (Kaiser FIR anti-aliasing)"})
    return data, new_sfreq


def _reference_step(data: np.ndarray, names: list[str], reference: str | Sequence[str] | None,
                    history: list[dict[str, Any]], path) -> None:
    """Re-reference ``data`` in place (average, or the mean of the named channels)."""
    if reference == "average":
        data -= data.mean(axis=0, keepdims=True)
        history.append({"step": "reference", "reference": "average"})
    elif reference is not None:
        refs = [reference] if isinstance(reference, str) else list(reference)
        missing = [r for r in refs if r not in names]
        if missing:
            raise AnalysisError(f"reference channels {missing} not among {names}", path)
        data -= data[[names.index(r) for r in refs]].mean(axis=0, keepdims=True)
        history.append({"step": "reference", "reference": refs})


def _cleaned_recording(rec: Recording, data: np.ndarray, sfreq: float, picks: list[int],
                       names: list[str], onsets: np.ndarray) -> Recording:
    """The cleaned EEG channels as a recording, with the events inside it and the pulses
    (added as ``tms_pulse`` events when they were found rather than given)."""
    ev = rec.events
    out = Recording(data, sfreq, names, ch_types=[rec.ch_types[i] for i in picks],
                    units=[rec.units[i] for i in picks],
                    events=ev[ev["onset"] < data.shape[1] / sfreq].copy(), meta=rec.meta,
                    source=rec.source)
    if not (ev["description"] == PULSE_DESCRIPTION).any():
        extra = pd.DataFrame({"onset": onsets, "duration": 0.0,
                              "description": PULSE_DESCRIPTION})
        out.events = Recording(np.zeros((1, 1)), 1.0, ["x"], events=pd.concat(
            [out.events, extra], ignore_index=True)).events
    return out


def _filter(data: np.ndarray, sfreq: float, l_freq: float | None, h_freq: float | None,
            line_freq: float | None, history: list[dict[str, Any]]) -> np.ndarray:
    import mne

    nyq = sfreq / 2.0
    if h_freq is not None and h_freq >= nyq * 0.95:
        history.append({"step": "lowpass", "skipped": True, "h_freq": h_freq,
                        "reason": f"at or above Nyquist ({nyq:g} Hz)"})
        h_freq = None
    if l_freq is not None or h_freq is not None:
        data = mne.filter.filter_data(data, sfreq, l_freq, h_freq, method="fir",
                                      phase="zero", fir_design="firwin", verbose=False)
        history.append({"step": "bandpass", "l_freq": l_freq, "h_freq": h_freq,
                        "method": "mne.filter.filter_data FIR firwin zero-phase"})
    if line_freq:
        freqs = np.arange(line_freq, nyq * 0.95, line_freq)
        if freqs.size:
            data = mne.filter.notch_filter(data, sfreq, freqs, method="fir", phase="zero",
                                           fir_design="firwin", verbose=False)
            history.append({"step": "notch", "freqs": freqs.tolist()})
    return data
