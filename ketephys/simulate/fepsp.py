"""Simulated field-EPSP experiments with an exactly known slope, amplitude and LTP.

Each stimulus adds to the sweep:

* a **stimulus artifact**: two samples at ``-artifact_amplitude`` from the stimulus sample, then
  a positive overshoot decaying with a 0.1 ms time constant (optionally clipped, as an ADC
  would clip it);
* a **fibre volley**: a compact ``sin^2`` dip of ``fibre_volley`` V, centred
  ``volley_latency`` after the stimulus, 0.8 ms wide, back at baseline before the fEPSP;
* the **fEPSP** (:func:`fepsp_waveform`): a quadratic onset, an exactly *linear* segment from
  5 % to 90 % of the amplitude with slope ``slope`` (V/s), a quadratic turn into the peak
  (zero derivative), and a smooth decay (difference of exponentials with zero derivative at
  the peak). Every slope definition that fits inside 5-90 % of the amplitude (20-80 %,
  10-90 %, 20-90 %, a window inside the linear segment, the maximal 1 ms slope) therefore has
  the exact truth ``slope`` (times the potentiation factor of that sweep);
* optionally a **population spike** of the opposite sign to the fEPSP (a Gaussian, 0.3 ms SD)
  just after the fEPSP peak.

Units: the slope is in V/s; note 1 mV/ms = 1 V/s, so typical slice fEPSP slopes of
-0.1 to -1 mV/ms are -0.1 to -1 V/s.

The potentiation factor of a sweep at ``t`` minutes after induction is
``1 + (ltp_magnitude - 1) * exp(-t / ltp_decay_tau_min) + ptp * exp(-t / ptp_tau_min)``
(1 before induction; ``ltp_decay_tau_min=None`` means no decay). It multiplies the whole
fEPSP (slope and amplitude), never the volley or the artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..errors import KetephysError
from ..recording import Recording, Source

__all__ = ["simulate_fepsp_experiment", "simulate_fepsp_io", "fepsp_waveform", "FepspTruth"]

_ARTIFACT_TAU = 1e-4
_VOLLEY_WIDTH = 8e-4


def fepsp_waveform(t: np.ndarray, onset: float, amplitude: float, slope: float,
                   decay_tau: float = 0.008) -> np.ndarray:
    """A positive-going fEPSP shape with an exactly linear 5-90 % rising segment.

    Parameters
    ----------
    t : ndarray
        Times in s.
    onset : float
        Time the response leaves baseline (s).
    amplitude : float
        Peak value (> 0, V).
    slope : float
        Slope of the linear segment (> 0, V/s).
    decay_tau : float
        Decay time constant after the peak (s).

    Returns
    -------
    ndarray
        The waveform at ``t`` (0 before ``onset``). Multiply by -1 for a negative fEPSP.
    """
    a, s = float(amplitude), float(slope)
    if a <= 0 or s <= 0:
        raise KetephysError("fepsp_waveform needs a positive amplitude and slope")
    t1 = 0.1 * a / s          # quadratic onset up to 5 %
    t2 = 0.85 * a / s         # linear 5 % -> 90 %
    t3 = 0.2 * a / s          # quadratic turn from 90 % into the peak
    u = np.asarray(t, float) - onset
    out = np.zeros_like(u)
    m1 = (u >= 0) & (u < t1)
    out[m1] = s * u[m1] ** 2 / (2 * t1)
    m2 = (u >= t1) & (u < t1 + t2)
    out[m2] = 0.05 * a + s * (u[m2] - t1)
    m3 = (u >= t1 + t2) & (u < t1 + t2 + t3)
    v = u[m3] - t1 - t2
    out[m3] = 0.9 * a + s * v - s * v ** 2 / (2 * t3)
    m4 = u >= t1 + t2 + t3
    x = u[m4] - (t1 + t2 + t3)
    tau1 = float(decay_tau)
    tau2 = min(1e-3, tau1 / 4)
    out[m4] = a * (tau1 * np.exp(-x / tau1) - tau2 * np.exp(-x / tau2)) / (tau1 - tau2)
    return out


def _volley(t: np.ndarray, centre: float, amplitude: float) -> np.ndarray:
    u = (np.asarray(t) - centre) / _VOLLEY_WIDTH + 0.5
    inside = (u > 0) & (u < 1)
    out = np.zeros_like(np.asarray(t, float))
    out[inside] = -amplitude * np.sin(np.pi * u[inside]) ** 2
    return out


def _artifact(t: np.ndarray, t0: float, amplitude: float, dt: float) -> np.ndarray:
    u = np.asarray(t) - t0
    out = np.zeros_like(u)
    first = (u > -dt / 2) & (u < 1.5 * dt)
    out[first] = -amplitude
    after = u >= 1.5 * dt
    out[after] = 0.5 * amplitude * np.exp(-(u[after] - 2 * dt) / _ARTIFACT_TAU)
    return out


@dataclass
class FepspTruth:
    """What :func:`simulate_fepsp_experiment` simulated.

    Attributes
    ----------
    stim_times : list of float
        Stimulus times within a test sweep (s from the sweep start).
    slope, amplitude : float
        Signed baseline slope (V/s) and amplitude (V) of the first response, pathway 1.
    fibre_volley : float
        Volley depth (V, positive magnitude; the volley is negative-going).
    volley_latency, onset_latency : float
        Volley trough and fEPSP onset after the stimulus (s). ``onset_latency`` is where the
        linear segment, extended, crosses the baseline (what the analyser reports).
    polarity : int
        -1 or +1.
    induction_time : float or None
        Seconds from the recording start.
    induction_sweeps : list of int
        Indices of sweeps that hold the induction train (empty in ``"gap"`` mode).
    factors : ndarray
        Potentiation factor of every sweep (1 before induction).
    pathway : ndarray
        Pathway (1 or 2) of every sweep; pathway 2 is the control (never potentiated).
    sweep_slopes, sweep_amplitudes : ndarray
        Signed slope/amplitude of the first response of every sweep.
    ltp_magnitude_pct, ptp_pct : float
        Mean factor x 100 of test-pathway sweeps 50-60 min (``window_minutes``) and 0-2 min
        after induction, i.e. exactly what the analyser should report.
    baseline_drift_pct_per_min : float
        Built-in response drift.
    pop_spike_amplitude : float or None
        Population-spike amplitude (V) when simulated.
    paired_pulse_ratio : float or None
        Second response / first response of a paired-pulse sweep (None without paired
        pulses).
    settings : dict
        ``sfreq`` (Hz), ``noise_sd`` (V), ``sweep_interval`` (s), ``induction``,
        ``induction_mode`` and ``pathways``.
    """

    stim_times: list
    slope: float
    amplitude: float
    fibre_volley: float
    volley_latency: float
    onset_latency: float
    polarity: int
    induction_time: float | None
    induction_sweeps: list
    factors: np.ndarray
    pathway: np.ndarray
    sweep_slopes: np.ndarray
    sweep_amplitudes: np.ndarray
    ltp_magnitude_pct: float
    ptp_pct: float
    baseline_drift_pct_per_min: float
    pop_spike_amplitude: float | None
    paired_pulse_ratio: float | None
    settings: dict = field(default_factory=dict)


def _sweep(times: np.ndarray, stims: Sequence[float], scales: Sequence[float], *, sfreq: float,
           amplitude: float, slope: float, polarity: int, fibre_volley: float,
           volley_latency: float, onset_latency: float, decay_tau: float,
           artifact_amplitude: float, pop_spike: float | None) -> np.ndarray:
    """Noiseless sweep with responses at ``stims`` scaled by ``scales``."""
    dt = 1.0 / sfreq
    y = np.zeros_like(times)
    a, s = abs(amplitude), abs(slope)
    for t0, k in zip(stims, scales):
        y += _artifact(times, t0, artifact_amplitude, dt)
        y += _volley(times, t0 + volley_latency, fibre_volley)
        if k > 0:
            y += polarity * fepsp_waveform(times, t0 + onset_latency, a * k, s * k, decay_tau)
            if pop_spike:
                t_peak = t0 + onset_latency + 1.15 * a / s
                y -= polarity * pop_spike * k * np.exp(
                    -0.5 * ((times - t_peak - 1e-3) / 3e-4) ** 2)
    return y


def simulate_fepsp_experiment(
    n_baseline_min: float = 20.0,
    n_post_min: float = 60.0,
    sweep_interval: float = 15.0,
    sfreq: float = 10000.0,
    sweep_duration: float = 0.1,
    stim_time: float = 0.01,
    slope: float = -0.5,
    amplitude: float = -1e-3,
    fibre_volley: float = 0.2e-3,
    volley_latency: float = 1.5e-3,
    onset_latency: float = 2.2e-3,
    decay_tau: float = 0.008,
    pop_spike: float | None = None,
    artifact_amplitude: float = 3e-3,
    artifact_clip: float | None = None,
    induction: str | None = "tetanus",
    induction_mode: str = "gap",
    induction_gap: float = 60.0,
    ltp_magnitude: float = 1.5,
    ltp_decay_tau_min: float | None = None,
    ptp: float = 0.5,
    ptp_tau_min: float = 2.0,
    noise_sd: float = 20e-6,
    baseline_drift: float = 0.0,
    response_drift_pct_per_min: float = 0.0,
    paired_pulse: float | None = None,
    paired_pulse_ratio: float = 1.5,
    pathways: int = 1,
    control_scale: float = 0.7,
    gaps: Sequence[tuple[float, float]] = (),
    window_minutes: tuple[float, float] = (50.0, 60.0),
    meta: dict | None = None,
    seed: Any = None,
) -> tuple[Recording, FepspTruth]:
    """Simulate a field-EPSP LTP experiment: baseline, induction, potentiation.

    Parameters
    ----------
    n_baseline_min, n_post_min : float
        Minutes of test sweeps before and after induction.
    sweep_interval : float
        Seconds between consecutive sweeps (with ``pathways=2`` each pathway is stimulated
        every ``2 * sweep_interval``).
    sfreq, sweep_duration, stim_time : float
        Sampling rate (Hz), sweep length (s) and stimulus time within a sweep (s).
    slope : float
        Signed slope of the fEPSP's linear 5-90 % segment, V/s (-0.5 V/s = -0.5 mV/ms).
    amplitude : float
        Signed peak amplitude (V); its sign must match ``slope`` (the polarity).
    fibre_volley : float
        Volley depth (V, > 0; the volley is negative-going); 0 for none.
    volley_latency, onset_latency : float
        Volley trough and fEPSP start after the stimulus (s).
    decay_tau : float
        fEPSP decay (s).
    pop_spike : float, optional
        Population-spike amplitude (V) of the opposite sign to the fEPSP.
    artifact_amplitude : float
        Artifact size (V).
    artifact_clip : float, optional
        Clip the whole trace (noise included) at +-this value (V), as a saturated amplifier
        would; None (default) for no clipping.
    induction : {"tetanus", "theta_burst", None}
        ``None`` simulates a control experiment without induction (no potentiation).
    induction_mode : {"gap", "recorded"}
        ``"gap"``: no sweep during the induction (recording resumes ``induction_gap`` s
        after it); ``"recorded"``: one sweep holds the start of the train (100 Hz tetanus
        or a 4-pulse 100 Hz theta burst) and test sweeps resume one interval later.
    induction_gap : float
        Seconds from the induction to the first test sweep after it in ``"gap"`` mode
        (default 60 s).
    ltp_magnitude : float
        Long-term potentiation factor (1.5 = 150 % of baseline).
    ltp_decay_tau_min : float, optional
        Decay of the LTP (minutes); ``None`` for stable LTP.
    ptp, ptp_tau_min : float
        Extra post-tetanic potentiation at induction (fraction) and its decay (minutes).
    noise_sd : float
        White noise SD (V).
    baseline_drift : float
        DC offset drift (V per minute; does not change responses).
    response_drift_pct_per_min : float
        Drift of the response size (% of baseline per minute; applied throughout).
    paired_pulse : float, optional
        Interval (s) of a second stimulus in every test sweep, with response
        ``paired_pulse_ratio`` times the first.
    paired_pulse_ratio : float
        Second response / first response with ``paired_pulse`` (default 1.5: facilitation).
    pathways : {1, 2}
        Two alternating pathways (even sweeps pathway 1 = test, odd sweeps pathway 2 =
        control, never potentiated, response ``control_scale`` times pathway 1).
    control_scale : float
        Response of the control pathway / response of the test pathway (default 0.7).
    gaps : sequence of (start_min, duration_min)
        Extra recording pauses (minutes from the recording start).
    window_minutes : (float, float)
        Window for :attr:`FepspTruth.ltp_magnitude_pct`.
    meta : dict, optional
        Study metadata.
    seed : int or numpy.random.Generator, optional
        Seed of the noise (None: fresh entropy).

    Returns
    -------
    recording : Recording
        One ``field`` channel ``"fEPSP"``, episodic, with real sweep start times.
    truth : FepspTruth
        What was simulated.

    Raises
    ------
    KetephysError
        ``slope`` and ``amplitude`` zero or of different signs, an unknown ``pathways``,
        ``induction`` or ``induction_mode``, or a sweep too short for its stimuli.
    """
    rng = check_random_state(seed)
    _check_experiment(slope, amplitude, pathways, induction, induction_mode)
    polarity = int(np.sign(slope))
    times = np.arange(int(round(sweep_duration * sfreq))) / sfreq
    stim_time = round(stim_time * sfreq) / sfreq
    stims = _stimulus_times(stim_time, paired_pulse, sfreq, sweep_duration)
    t_ind = n_baseline_min * 60.0
    starts, kinds = _sweep_schedule(t_ind, n_post_min, sweep_interval, induction,
                                    induction_mode, induction_gap, gaps)
    pathway = _pathway_of_sweeps(kinds, pathways)
    t_min = (starts - t_ind) / 60.0
    factors = _potentiation_factors(t_min, pathway, induction, ltp_magnitude,
                                    ltp_decay_tau_min, ptp, ptp_tau_min)
    drift = 1.0 + response_drift_pct_per_min / 100.0 * (starts / 60.0)
    scale = factors * drift * np.where(pathway == 2, control_scale, 1.0)

    wave = dict(sfreq=sfreq, amplitude=amplitude, slope=slope, polarity=polarity,
                fibre_volley=fibre_volley, volley_latency=volley_latency,
                onset_latency=onset_latency, decay_tau=decay_tau,
                artifact_amplitude=artifact_amplitude, pop_spike=pop_spike)
    induction_train = _induction_train(induction, stim_time, sweep_duration)
    data = _noiseless_sweeps(times, stims, scale, kinds, induction_train,
                             [1.0] + [paired_pulse_ratio] * (len(stims) - 1), wave)
    data += baseline_drift * (starts / 60.0)[:, None, None]
    data += rng.normal(0.0, noise_sd, data.shape)
    if artifact_clip is not None:
        np.clip(data, -artifact_clip, artifact_clip, out=data)

    ltp_pct, ptp_pct = _expected_percentages(t_min, pathway, kinds, scale, window_minutes)
    s_first = slope * scale
    a_first = amplitude * scale
    s_first[kinds == "induction"] = np.nan
    a_first[kinds == "induction"] = np.nan
    truth = FepspTruth(
        stim_times=stims, slope=float(slope), amplitude=float(amplitude),
        fibre_volley=float(fibre_volley), volley_latency=float(volley_latency),
        onset_latency=float(onset_latency + 0.05 * abs(amplitude / slope)),
        polarity=polarity, induction_time=t_ind if induction is not None else None,
        induction_sweeps=list(np.flatnonzero(kinds == "induction")), factors=factors,
        pathway=pathway, sweep_slopes=s_first, sweep_amplitudes=a_first,
        ltp_magnitude_pct=ltp_pct, ptp_pct=ptp_pct,
        baseline_drift_pct_per_min=float(response_drift_pct_per_min),
        pop_spike_amplitude=pop_spike, paired_pulse_ratio=paired_pulse_ratio if paired_pulse
        else None,
        settings=dict(sfreq=sfreq, noise_sd=noise_sd, sweep_interval=sweep_interval,
                      induction=induction, induction_mode=induction_mode, pathways=pathways))
    rec = Recording(data, sfreq, ["fEPSP"], ch_types=["field"], units=["V"],
                    sweep_starts=starts, meta=meta,
                    source=Source(None, "simulated", "ketephys.simulate.simulate_fepsp_experiment"))
    return rec, truth


def _check_experiment(slope: float, amplitude: float, pathways: int, induction: str | None,
                      induction_mode: str) -> None:
    """Raise :class:`KetephysError` for a polarity, pathway count or induction not known."""
    if np.sign(slope) != np.sign(amplitude) or slope == 0:
        raise KetephysError("slope and amplitude must be non-zero with the same sign")
    if pathways not in (1, 2):
        raise KetephysError(f"pathways must be 1 or 2, got {pathways}")
    if induction not in (None, "tetanus", "theta_burst"):
        raise KetephysError(f"induction must be 'tetanus', 'theta_burst' or None, got {induction!r}")
    if induction_mode not in ("gap", "recorded"):
        raise KetephysError(f"induction_mode must be 'gap' or 'recorded', got {induction_mode!r}")


def _stimulus_times(stim_time: float, paired_pulse: float | None, sfreq: float,
                    sweep_duration: float) -> list[float]:
    """The test stimulus (and the paired one) on the sample grid; the last response must
    fit in the sweep (30 ms)."""
    stims = [stim_time]
    if paired_pulse:
        stims.append(round((stim_time + paired_pulse) * sfreq) / sfreq)
    if stims[-1] + 0.03 > sweep_duration:
        raise KetephysError("sweep_duration too short for the stimuli and responses")
    return stims


def _sweep_schedule(t_ind: float, n_post_min: float, sweep_interval: float,
                    induction: str | None, induction_mode: str, induction_gap: float,
                    gaps: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Start time (s) and kind (``"test"`` or ``"induction"``) of every sweep: baseline
    sweeps up to the induction at ``t_ind``, the induction sweep (``"recorded"`` mode),
    test sweeps after it, without those starting in one of the ``gaps``."""
    starts = list(np.arange(0.0, t_ind - 1e-9, sweep_interval))
    kinds = ["test"] * len(starts)
    if induction is not None and induction_mode == "recorded":
        starts.append(t_ind)
        kinds.append("induction")
        resume = t_ind + sweep_interval
    elif induction is not None:
        resume = t_ind + induction_gap
    else:
        resume = t_ind
    post = list(np.arange(resume, t_ind + n_post_min * 60.0 - 1e-9, sweep_interval))
    starts_arr = np.asarray(starts + post)
    kinds_arr = np.asarray(kinds + ["test"] * len(post))
    keep = np.ones(len(starts_arr), bool)
    for g0, glen in gaps:
        keep &= ~((starts_arr >= g0 * 60.0) & (starts_arr < (g0 + glen) * 60.0))
    return starts_arr[keep], kinds_arr[keep]


def _pathway_of_sweeps(kinds: np.ndarray, pathways: int) -> np.ndarray:
    """1 for every sweep, or with two pathways 2 for every other test sweep."""
    test_idx = np.flatnonzero(kinds == "test")
    pathway = np.ones(len(kinds), int)
    pathway[test_idx[1::2]] = 2 if pathways == 2 else 1
    return pathway


def _potentiation_factors(t_min: np.ndarray, pathway: np.ndarray, induction: str | None,
                          ltp_magnitude: float, ltp_decay_tau_min: float | None, ptp: float,
                          ptp_tau_min: float) -> np.ndarray:
    """Potentiation factor of every sweep (``t_min``: minutes after induction): 1 before
    induction, without induction and on the control pathway (the module docstring's
    formula otherwise)."""
    factors = np.ones(len(t_min))
    if induction is None:
        return factors
    after = t_min >= 0
    ltp = np.ones(after.sum()) * (ltp_magnitude - 1.0)
    if ltp_decay_tau_min:
        ltp = ltp * np.exp(-t_min[after] / ltp_decay_tau_min)
    factors[after] = 1.0 + ltp + ptp * np.exp(-t_min[after] / ptp_tau_min)
    factors[pathway == 2] = 1.0
    return factors


def _induction_train(induction: str | None, stim_time: float, sweep_duration: float
                     ) -> list[float]:
    """Stimulus times of the induction sweep: a 100 Hz tetanus to 12 ms before the sweep
    end, or one theta burst of four 100 Hz pulses (empty without induction)."""
    if induction == "tetanus":
        return list(np.arange(stim_time, sweep_duration - 0.012, 0.01))
    if induction == "theta_burst":
        return list(stim_time + np.arange(4) * 0.01)
    return []


def _noiseless_sweeps(times: np.ndarray, stims: list[float], scale: np.ndarray,
                      kinds: np.ndarray, induction_train: list[float],
                      ppr_scale: list[float], wave: dict[str, Any]) -> np.ndarray:
    """Every sweep without noise or drift, shape (n_sweeps, 1, n_times): test sweeps are the
    artifacts plus the unit responses times the sweep's ``scale`` (and ``ppr_scale`` per
    stimulus); the induction sweep holds the whole train at baseline size."""
    data = np.empty((len(scale), 1, times.size))
    # responses differ only by a scale: build the unit responses once
    unit_art = _sweep(times, stims, [0.0] * len(stims), **wave)
    unit_resp = [(_sweep(times, [s0], [1.0], **wave) - _sweep(times, [s0], [0.0], **wave))
                 for s0 in stims]
    for i, (k, kind) in enumerate(zip(scale, kinds)):
        if kind == "induction":
            y = _sweep(times, induction_train, [1.0] * len(induction_train), **wave)
        else:
            y = unit_art.copy()
            for r, p in zip(unit_resp, ppr_scale):
                y += k * p * r
        data[i, 0] = y
    return data


def _expected_percentages(t_min: np.ndarray, pathway: np.ndarray, kinds: np.ndarray,
                          scale: np.ndarray, window_minutes: tuple[float, float]
                          ) -> tuple[float, float]:
    """LTP and PTP (% of the last 10 baseline minutes) the analyser should report: the mean
    response scale of test-pathway sweeps in ``window_minutes`` and in the first 2 min."""
    test = (pathway == 1) & (kinds == "test")
    win = (t_min >= window_minutes[0]) & (t_min < window_minutes[1]) & test
    early = (t_min >= 0) & (t_min < 2.0) & test
    base = (t_min < 0) & (t_min >= -10.0) & test
    base_mean = float(np.mean(scale[base]))
    ltp_pct = float(np.mean(scale[win]) / base_mean * 100) if win.any() else float("nan")
    ptp_pct = float(np.mean(scale[early]) / base_mean * 100) if early.any() else float("nan")
    return ltp_pct, ptp_pct


def simulate_fepsp_io(
    intensities: Sequence[float] = (10, 20, 30, 40, 60, 80, 100, 150),
    repeats: int = 3,
    i50: float = 50.0,
    k: float = 12.0,
    slope_max: float = -1.0,
    amplitude_max: float = -2e-3,
    sweep_interval: float = 10.0,
    sfreq: float = 10000.0,
    noise_sd: float = 20e-6,
    seed: Any = None,
) -> tuple[Recording, dict]:
    """Simulate an input-output series: response = max / (1 + exp((i50 - I) / k)).

    Every sweep is 100 ms with one stimulus at 10 ms (artifact, a 0.3 mV fibre volley and
    the fEPSP of :func:`fepsp_waveform` scaled by the sigmoid); no potentiation.

    Parameters
    ----------
    intensities : sequence of float
        Stimulus intensities, in the order they are given (any unit, e.g. uA).
    repeats : int
        Consecutive sweeps per intensity (default 3).
    i50 : float
        Intensity giving half the maximal response (unit of ``intensities``).
    k : float
        Sigmoid width (unit of ``intensities``): larger is shallower.
    slope_max : float
        Signed fEPSP slope at saturation (V/s, default -1 V/s).
    amplitude_max : float
        Signed fEPSP amplitude at saturation (V, default -2 mV); same sign as ``slope_max``.
    sweep_interval : float
        Seconds between sweep starts (default 10 s).
    sfreq : float
        Sampling rate (Hz, default 10 kHz).
    noise_sd : float
        White noise SD (V, default 20 uV).
    seed : int or numpy.random.Generator, optional
        Seed of the noise (None: fresh entropy).

    Returns
    -------
    recording : Recording
        One ``field`` channel ``"fEPSP"``, sweeps in the order of ``intensities`` (each
        repeated ``repeats`` times), an ``intensity=<value>`` event per sweep.
    truth : dict
        ``intensity`` per sweep, ``i50``, ``k``, ``slope_max``, ``amplitude_max`` and the
        per-sweep ``slopes`` and ``amplitudes``.
    """
    rng = check_random_state(seed)
    inten = np.repeat(np.asarray(intensities, float), repeats)
    frac = 1.0 / (1.0 + np.exp((i50 - inten) / k))
    n_times = int(round(0.1 * sfreq))
    times = np.arange(n_times) / sfreq
    stim = round(0.01 * sfreq) / sfreq
    wave = dict(sfreq=sfreq, amplitude=amplitude_max, slope=slope_max,
                polarity=int(np.sign(slope_max)), fibre_volley=0.3e-3, volley_latency=1.5e-3,
                onset_latency=2.2e-3, decay_tau=0.008, artifact_amplitude=3e-3, pop_spike=None)
    data = np.empty((len(inten), 1, n_times))
    for i, f in enumerate(frac):
        data[i, 0] = _sweep(times, [stim], [f], **wave)
    data += rng.normal(0, noise_sd, data.shape)
    rec = Recording(data, sfreq, ["fEPSP"], ch_types=["field"], units=["V"],
                    sweep_starts=np.arange(len(inten)) * sweep_interval,
                    events=pd.DataFrame({"onset": [stim] * len(inten), "duration": 0.0,
                                         "description": [f"intensity={v:g}" for v in inten],
                                         "sweep": np.arange(len(inten))}),
                    source=Source(None, "simulated", "ketephys.simulate.simulate_fepsp_io"))
    truth = dict(intensity=inten, i50=i50, k=k, slope_max=slope_max,
                 amplitude_max=amplitude_max, slopes=slope_max * frac,
                 amplitudes=amplitude_max * frac)
    return rec, truth
