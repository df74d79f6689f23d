"""Whole-cell evoked responses (EPSC in voltage clamp, EPSP in current clamp).

One row per sweep and stimulus:

* ``baseline``/``noise_sd``: mean and SD (about a line) of ``baseline_window`` s ending
  ``baseline_gap`` s before the stimulus (in a train, with ``tail_baseline``, the previous response's fitted decay
  continued under this one, shifted to match that window; ``baseline`` is then its value
  at the stimulus); ``amplitude`` (signed; A or V): extreme of the trace smoothed over
  ``peak_smooth`` s in the response window, which starts ``min_latency`` s after the
  stimulus and after the artifact, and ends ``response_window`` s after it or at the next
  stimulus;
* ``rise_time``: 10-90 % rise time, crossings on the trace smoothed over ``smooth`` s,
  linearly interpolated between samples; ``onset_latency``: the 10 % crossing after the
  stimulus;
* ``decay_tau`` (s) with its standard error: least-squares fit of
  ``c + a * exp(-(t - t0) / tau)`` from the point the response has fallen to ``decay_from``
  (50 %) of its peak to the end of the window (starting later than the peak keeps the
  rising phase out of the fit);
* ``ratio_to_first``: amplitude / amplitude of stimulus 1 of the same sweep (paired-pulse
  and train ratios);
* ``holding``: median of the sweep before its first stimulus or test pulse (A in voltage
  clamp = holding current, V in current clamp);
* ``rs``/``rm``/``cm`` from a test pulse (:mod:`ketephys.synaptic.testpulse`) when one is
  given or listed in the events (``description="test_pulse"`` with an ``amplitude``
  column); flag ``access_changed`` when Rs differs from the first sweep's by more than
  ``rs_change_limit`` (20 %).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._result import ResultMixin, compact_recording
from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from ._common import (
    assemble,
    channel_stimuli,
    moving_average,
    odd_width,
    pick_channel,
    sweep_starts,
    sweeps_of,
)
from .testpulse import measure_test_pulse as _test_pulse

__all__ = ["psc", "PSC_COLUMNS", "PSCResult"]

#: Detail columns of :func:`psc` (after the study metadata, ``recording``, ``modality``).
PSC_COLUMNS = (
    "channel", "unit", "sweep", "stimulus", "sweep_start", "time", "stim_time",
    "artifact_end", "polarity", "baseline", "noise_sd", "amplitude", "peak_latency",
    "rise_time", "onset_latency", "decay_tau", "decay_tau_se", "ratio_to_first", "holding",
    "rs", "rm", "cm", "flags",
)


@fill_doc
@dataclass(repr=False)
class PSCResult(ResultMixin):
    """Whole-cell responses of one recording: the :func:`psc` table and the traces.

    Made by :meth:`PSCResult.from_recording` (``psc()`` itself returns the table, which
    the batch stores); shares the result surface: :meth:`get_data`,
    :meth:`to_data_frame`, :meth:`plot`, :meth:`copy` and a short repr.

    Attributes
    ----------
    table : DataFrame
        :func:`psc` rows (one per sweep and stimulus).
    traces : ndarray, shape (n_sweeps, n_times)
        The measured channel (A in voltage clamp, V in current clamp), float32.
    sfreq : float
        Hz.
    channel, unit : str
    recording : RecordingInfo
        Metadata and source (no samples).
    """

    table: pd.DataFrame
    traces: np.ndarray
    sfreq: float
    channel: str
    unit: str
    recording: Any = None

    def __post_init__(self) -> None:
        self.recording = compact_recording(self.recording)

    @classmethod
    def from_recording(cls, rec: Recording, **psc_settings: Any) -> PSCResult:
        """Measure ``rec`` with :func:`psc` and keep the measured channel's sweeps.

        Parameters
        ----------
        rec : Recording
            Episodic whole-cell recording.
        **psc_settings
            Keywords of :func:`psc`.

        Returns
        -------
        PSCResult
        """
        table = psc(rec, **psc_settings)
        name = str(table["channel"].iloc[0])
        ch = rec.ch_names.index(name)
        return cls(table, np.asarray(sweeps_of(rec, ch), np.float32), float(rec.sfreq), name,
                   rec.units[ch], rec)

    def get_data(self) -> np.ndarray:
        """Amplitude per sweep and stimulus.

        Returns
        -------
        ndarray, shape (n_sweeps, n_stimuli)
            Signed amplitudes in :attr:`unit` (NaN where a stimulus is missing).
        """
        return self.table.pivot(index="sweep", columns="stimulus",
                                values="amplitude").to_numpy(float)

    def to_data_frame(self) -> pd.DataFrame:
        """The :func:`psc` table (a copy).

        Returns
        -------
        pandas.DataFrame
        """
        return self.table.copy()

    def plot(self, sweep: int | None = None, show: bool | None = None) -> Any:
        """The train (sweep mean or one sweep) with each amplitude marked, and the
        amplitudes per stimulus.

        Parameters
        ----------
        sweep : int, optional
            Default: the mean over sweeps.
        %(show)s

        %(returns_figure)s
        """
        from ..viz.synaptic import plot_psc

        return plot_psc(self, sweep, show)

    def _repr_parts(self) -> list[str]:
        n_stim = int(self.table["stimulus"].max()) if len(self.table) else 0
        amp = self.table.loc[self.table["stimulus"] == 1, "amplitude"].mean()
        return [f"{self.channel} ({self.unit})", f"{self.traces.shape[0]} sweeps x "
                f"{n_stim} stimuli @ {self.sfreq:g} Hz",
                f"mean first amplitude {amp:.3g} {self.unit}",
                f"{int(self.table['flags'].astype(bool).sum())} flagged rows"]


def _crossing(t: np.ndarray, d: np.ndarray, k: int, level: float) -> float:
    """Time between samples k-1 (below ``level``) and k (at or above), interpolated."""
    if k <= 0:
        return float(t[0])
    d0, d1 = d[k - 1], d[k]
    frac = (level - d0) / (d1 - d0) if d1 != d0 else 0.0
    return float(t[k - 1] + frac * (t[k] - t[k - 1]))


def _measure(y: np.ndarray, sfreq: float, i_stim: int, i_first: int, i_stop: int,
             base_span: tuple[int, int],
             pol: int, smooth: float, peak_smooth: float, k_response: float,
             tail: tuple[float, float, float, float, float] | None = None,
             decay_from: float = 0.5) -> tuple[dict[str, Any], tuple[float, float, float, float, float] | None]:
    from scipy.optimize import OptimizeWarning, curve_fit

    flags: list[str] = []
    t = np.arange(y.size) / sfreq
    i_b, i_b1 = max(min(base_span[0], i_stim - 1), 0), min(base_span[1], i_stim)
    b = y[i_b:i_b1]
    base = float(b.mean())
    noise = float("nan")
    if b.size > 3:
        k = np.arange(b.size)
        noise = float(np.std(b - np.polyval(np.polyfit(k, b, 1), k), ddof=2))
    if i_stop - i_first < 5:
        raise AnalysisError(f"response window of {i_stop - i_first} samples")
    lo, hi = i_first, i_stop  # never smooth across an artifact
    if tail is not None:
        # the previous response's fitted decay, continued under this one
        b_prev, c_p, a_p, t0_p, tau_p = tail
        curve = b_prev + pol * (c_p + a_p * np.exp(np.clip(-(t - t0_p) / tau_p, -700, 50)))
        curve += float(np.mean(b - curve[i_b:i_b1]))
        base = float(curve[i_stim])
    else:
        curve = np.full(y.size, base)
    dev = pol * (y - curve)
    dev_s = np.zeros_like(dev)
    dev_p = np.zeros_like(dev)
    dev_s[lo:hi] = moving_average(dev[lo:hi], odd_width(smooth, sfreq))
    dev_p[lo:hi] = moving_average(dev[lo:hi], odd_width(peak_smooth, sfreq))
    ip = i_first + int(np.argmax(dev_p[i_first:i_stop]))
    amp = float(dev_p[ip])
    if not np.isfinite(noise) or amp < k_response * noise or amp <= 0:
        flags.append("no_response")
    out: dict[str, Any] = {"baseline": base, "noise_sd": noise, "polarity": pol,
                           "amplitude": pol * amp, "peak_latency": (ip - i_stim) / sfreq}
    amp_pos = max(amp, np.finfo(float).tiny)
    seg = dev_s[i_first:ip + 1]
    below10 = np.flatnonzero(seg < 0.1 * amp_pos)
    if below10.size:
        k10 = i_first + int(below10[-1]) + 1
        t10 = _crossing(t, dev_s, k10, 0.1 * amp_pos)
        above90 = np.flatnonzero(dev_s[k10:ip + 1] >= 0.9 * amp_pos)
        k90 = k10 + int(above90[0]) if above90.size else ip
        t90 = _crossing(t, dev_s, k90, 0.9 * amp_pos)
        out["rise_time"] = t90 - t10
        out["onset_latency"] = t10 - i_stim / sfreq
    else:
        out["rise_time"] = out["onset_latency"] = float("nan")
        flags.append("rise_at_artifact")
    # decay: from the 80 % point after the peak to the end of the window
    after = np.flatnonzero(dev_s[ip:i_stop] <= decay_from * amp_pos)
    tau = tau_se = float("nan")
    model = None
    if after.size:
        j0 = ip + int(after[0])
        tt = t[j0:i_stop] - t[j0]
        yy = dev[j0:i_stop]
        if tt.size >= 6:
            cross = np.flatnonzero(yy <= yy[0] / np.e)
            tau0 = tt[cross[0]] if cross.size else tt[-1] / 3
            try:
                with warnings.catch_warnings(), np.errstate(over="ignore"):
                    warnings.simplefilter("ignore", OptimizeWarning)
                    popt, pcov = curve_fit(lambda x, c, a, ta: c + a * np.exp(-x / ta), tt,
                                           yy, p0=(0.0, yy[0], max(tau0, 2 / sfreq)),
                                           maxfev=5000)
                tau, tau_se = float(popt[2]), float(np.sqrt(pcov[2, 2]))
                if not np.isfinite(tau) or tau <= 0:
                    tau = tau_se = float("nan")
                    flags.append("decay_fit_failed")
                else:
                    # in raw units relative to this response's baseline curve
                    model = (0.0, float(popt[0]), float(popt[1]), float(t[j0]), tau)
            except (RuntimeError, ValueError):
                flags.append("decay_fit_failed")
    else:
        flags.append("decay_not_reached")
    out.update(decay_tau=tau, decay_tau_se=tau_se, flags=";".join(flags))
    if model is not None:
        # express the fitted decay on the raw trace: curve + pol * (c + a exp(...))
        c_raw = curve[j0:i_stop].mean() - base
        model = (base, model[1] + pol * c_raw, model[2], model[3], model[4])
    return out, model


def _test_pulse_spec(rec: Recording, test_pulse: Any) -> dict | None:
    if test_pulse is None or test_pulse is False:
        return None
    if isinstance(test_pulse, dict):
        missing = {"start", "duration", "amplitude"} - set(test_pulse)
        if missing:
            raise AnalysisError(f"test_pulse needs start, duration and amplitude; missing "
                                f"{sorted(missing)}", rec.source.path)
        return test_pulse
    if test_pulse == "auto":
        ev = rec.events[rec.events["description"].str.lower() == "test_pulse"]
        if len(ev) and "amplitude" in ev:
            r = ev.iloc[0]
            return {"start": float(r["onset"]), "duration": float(r["duration"]),
                    "amplitude": float(r["amplitude"])}
        return None
    raise AnalysisError(f"test_pulse must be 'auto', None or a dict, got {test_pulse!r}",
                        rec.source.path)


@check_keywords()
@fill_doc
def psc(
    rec: Recording,
    channel: str | int | None = None,
    polarity: str | int = "auto",
    stim_times: Sequence[float] | None = None,
    test_pulse: Any = "auto",
    baseline_window: float = 2e-3,
    baseline_gap: float = 3e-4,
    response_window: float = 0.02,
    min_latency: float = 1e-3,
    smooth: float = 1e-4,
    peak_smooth: float = 3e-4,
    k_response: float = 4.0,
    rs_change_limit: float = 0.2,
    tail_baseline: bool = True,
    decay_from: float = 0.5,
) -> pd.DataFrame:
    """EPSC/EPSP measures of every sweep and stimulus of a whole-cell recording.

    Parameters
    ----------
    rec : Recording
        Episodic whole-cell recording.
    channel : str or int, optional
        Default: the first current (``im``) channel (voltage clamp), else the first voltage
        (``vm``) channel (current clamp).
    %(polarity)s
    %(stim_times)s
    test_pulse : "auto", None or dict
        ``{"start", "duration", "amplitude"}`` (s, s, V or A); ``"auto"`` reads a
        ``test_pulse`` event with an ``amplitude`` column; ``None`` for none.
    baseline_window, baseline_gap, response_window, min_latency, smooth, peak_smooth : float
        Seconds (see the module docstring); the baseline ends ``baseline_gap`` before the
        stimulus.
    %(k_response)s
    rs_change_limit : float
        Fractional access-resistance change flagged ``access_changed``.
    tail_baseline : bool
        In trains, measure each response from the continued (fitted) decay of the previous
        one instead of the flat pre-stimulus mean.
    decay_from : float
        Fraction of the peak from which the decay is fitted.

    Returns
    -------
    pandas.DataFrame
        Study metadata, ``recording``, ``modality`` (``"patch"``), :data:`PSC_COLUMNS`,
        ``settings_hash``.
    """
    ch = _psc_channel(rec, channel)
    mode = "voltage_clamp" if rec.units[ch] == "A" else "current_clamp"
    settings = dict(channel=rec.ch_names[ch], polarity=polarity, stim_times=stim_times,
                    test_pulse=test_pulse, baseline_window=baseline_window,
                    baseline_gap=baseline_gap,
                    response_window=response_window, min_latency=min_latency, smooth=smooth,
                    peak_smooth=peak_smooth, k_response=k_response,
                    rs_change_limit=rs_change_limit, tail_baseline=tail_baseline,
                    decay_from=decay_from)
    sf = rec.sfreq
    tp = _test_pulse_spec(rec, test_pulse)
    exclude = [(tp["start"] - 5e-4, tp["start"] + tp["duration"] + 5e-3)] if tp else None
    y, stims, pol = channel_stimuli(rec, ch, stim_times, polarity, baseline_window,
                                    response_window, exclude=exclude)
    tpt = None
    if tp:
        tpt = _test_pulse(y, sf, tp["start"], tp["duration"], tp["amplitude"], mode=mode)
    run = _PscRun(rec=rec, ch=ch, y=y, pol=pol, tp=tp, tpt=tpt, starts=sweep_starts(rec),
                  baseline_window=baseline_window, baseline_gap=baseline_gap,
                  response_window=response_window, min_latency=min_latency, smooth=smooth,
                  peak_smooth=peak_smooth, k_response=k_response,
                  rs_change_limit=rs_change_limit, tail_baseline=tail_baseline,
                  decay_from=decay_from)
    rows = []
    for s in np.unique(stims["sweep"].to_numpy(int)):
        rows.extend(_psc_sweep(run, s, stims[stims["sweep"] == s]))
    return assemble(rows, rec, "patch", settings, PSC_COLUMNS)


def _psc_channel(rec: Recording, channel: str | int | None) -> int:
    """The channel :func:`psc` measures: the one given, else the first current (im) or,
    without one, voltage (vm) channel."""
    if channel is not None:
        return pick_channel(rec, channel, (), "")[0]
    ims = [i for i, t in enumerate(rec.ch_types) if t == "im"]
    vms = [i for i, t in enumerate(rec.ch_types) if t == "vm"]
    if not ims and not vms:
        raise AnalysisError("no current (im) or voltage (vm) channel; pass channel=...",
                            rec.source.path)
    return (ims or vms)[0]


@dataclass
class _PscRun:
    """What one :func:`psc` call measures every sweep with."""

    rec: Recording
    ch: int
    y: np.ndarray
    pol: int
    tp: dict[str, Any] | None
    tpt: pd.DataFrame | None
    starts: np.ndarray
    baseline_window: float
    baseline_gap: float
    response_window: float
    min_latency: float
    smooth: float
    peak_smooth: float
    k_response: float
    rs_change_limit: float
    tail_baseline: bool
    decay_from: float
    rs0: float | None = None  # access resistance of the first sweep measured

    def access(self, s: int, flags: list[str]) -> tuple[float, float, float]:
        """Rs, Rm, Cm of sweep ``s`` from its test pulse (NaN without one); flags
        ``access_changed`` when Rs moved more than ``rs_change_limit`` from the first."""
        if self.tpt is None:
            return float("nan"), float("nan"), float("nan")
        r = self.tpt.iloc[int(s)]
        rs, rm, cm = float(r["rs"]), float(r["rm"]), float(r["cm"])
        if self.rs0 is None:
            self.rs0 = rs
        if abs(rs / self.rs0 - 1) > self.rs_change_limit:
            flags.append("access_changed")
        return rs, rm, cm


def _psc_sweep(run: _PscRun, s: int, g: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of every stimulus of sweep ``s`` (its stimulus table ``g``)."""
    rec, y, sf, tp = run.rec, run.y, run.rec.sfreq, run.tp
    st = g["stim_time"].to_numpy(float)
    ends = g["artifact_end"].to_numpy(float)
    first_event = min(st[0], tp["start"]) if tp else st[0]
    holding = float(np.median(y[s, :max(1, int(first_event * sf) - 1)]))
    sweep_rows = []
    model = None
    for k in range(st.size):
        i_stim = int(round(st[k] * sf))
        i_first = max(int(round(ends[k] * sf)), i_stim + int(round(run.min_latency * sf)))
        nxt = st[k + 1] - 2e-4 if k + 1 < st.size else np.inf
        i_stop = int(min(round(min(st[k] + run.response_window, nxt) * sf), y.shape[1]))
        i_b0 = int(round(max(st[k] - run.baseline_gap - run.baseline_window,
                             ends[k - 1] if k else 0.0) * sf))
        i_b1 = max(i_b0 + 2, int(round((st[k] - run.baseline_gap) * sf)))
        try:
            res, model = _measure(y[s], sf, i_stim, i_first, i_stop, (i_b0, i_b1), run.pol,
                                  run.smooth, run.peak_smooth, run.k_response,
                                  tail=model if (k and run.tail_baseline) else None,
                                  decay_from=run.decay_from)
        except AnalysisError as err:
            raise AnalysisError(f"sweep {s}, stimulus {k + 1}: {err.detail}",
                                rec.source.path) from err
        flags = [res["flags"]]
        if bool(g["clipped"].iloc[k]):
            flags.append("clipped_artifact")
        rs, rm, cm = run.access(s, flags)
        res.update(channel=rec.ch_names[run.ch], unit=rec.units[run.ch], sweep=int(s),
                   stimulus=k + 1, sweep_start=float(run.starts[s]), stim_time=float(st[k]),
                   time=float(run.starts[s] + st[k]), artifact_end=float(ends[k]),
                   holding=holding, rs=rs, rm=rm, cm=cm,
                   flags=";".join(f for f in flags if f))
        sweep_rows.append(res)
    a1 = sweep_rows[0]["amplitude"]
    for r in sweep_rows:
        r["ratio_to_first"] = r["amplitude"] / a1 if a1 else float("nan")
    return sweep_rows
