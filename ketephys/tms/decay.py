"""Removing the slow decay artifact that follows a TMS pulse.

Two methods:

``exponential`` (per channel, per trial)
    Each trial is taken relative to its own pre-pulse level (mean over ``baseline``). For
    every channel, ``A exp(-(t - t0) / tau)`` -- no offset: the decay relaxes to the
    pre-pulse level, and an offset term lets the fit trade the exponential against the TEP
    -- is fitted by least squares to the trial average over ``t0 .. t0 + fit_length``, with
    ``tau`` within ``tau_bounds``. With ``tau`` fixed, each trial's own amplitude is a
    linear least-squares fit over the same samples, and ``A_trial exp(-(t - t0) / tau)`` is
    subtracted from ``t0`` on (over ``max(fit_length, 10 tau)``, at most 0.5 s). A channel
    is corrected only when a decay is really there: ``|A|`` must exceed ``min_snr`` times the
    standard deviation of the trial average over the pre-pulse baseline, ``tau`` must not
    sit on either bound, and the exponential must explain at least ``r2_min`` of the
    variance over its first ``5 tau`` (at least 5 samples).

    Where the fit window lies matters: :func:`ketephys.tms.clean` fits by default inside the
    removed pulse window, 3..10 ms, where only the decay is present. Fitting after the
    window (``t0`` = 10 ms, ``fit_length`` 0.1 s, TESA-like) lets the TEP leak into the fit:
    on the default simulation the N15 then came out ~25 % too small and P30 up to 13 % off.

``ica`` (MNE ICA)
    FastICA is fitted on the epochs (``-0.1..0.5`` s) of a 1 Hz high-passed copy. A component
    is a decay component when its trial-averaged time course, from the end of the removed
    window to ``t0 + 0.1`` s, is explained by an exponential (``R^2 >= r2_min``) with
    ``tau <= tau_bounds[1]``, and its value at ``t0`` exceeds ``min_snr`` times its
    pre-pulse standard deviation. Selected components are removed from the continuous data.
    Caveats measured on the simulator: a decay whose time constant differs between channels
    spreads over several components and only part of it is selected; and because the TEP is
    time-locked too, removing components also takes some TEP with it (P30..P60 came out
    ~20 % small with a single-tau decay). The exponential method is therefore the default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._result import ResultMixin, short
from ..errors import AnalysisError

__all__ = ["remove_decay_exponential", "remove_decay_ica", "ArtifactDecay"]

logger = logging.getLogger(__name__)


@dataclass(repr=False)
class ArtifactDecay(ResultMixin):
    """What the TMS decay-artifact removal did (not to be confused with the longitudinal
    :class:`ketephys.longitudinal.ArtifactDecay`).

    Attributes
    ----------
    method : str
        ``"exponential"`` or ``"ica"``.
    amplitude, tau : ndarray
        Exponential: per-channel fitted amplitude of the trial average (V) and tau (s)
        (NaN where not corrected). ICA: per selected component.
    corrected : list of str
        Channels corrected (exponential) or ICA component labels removed.
    details : dict
        Anything else (ICA n_components, per-component scores).
    """

    method: str
    amplitude: np.ndarray
    tau: np.ndarray
    corrected: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    def _repr_parts(self) -> list[str]:
        tau = self.tau[np.isfinite(self.tau)] if np.size(self.tau) else np.array([])
        span = f"tau {tau.min() * 1e3:.3g}-{tau.max() * 1e3:.3g} ms" if tau.size else "no tau"
        return [self.method, f"{len(self.corrected)} corrected ({short(self.corrected)})",
                span]


def _fit_exponential(t: np.ndarray, y: np.ndarray, tau_bounds: tuple[float, float],
                     offset: bool = True) -> tuple[float, float, float, float]:
    """Least-squares ``a exp(-t/tau) (+ c)``; returns (a, tau, c, r2) (c = 0 without offset)."""
    from scipy.optimize import least_squares

    c0 = float(np.mean(y[-max(1, len(y) // 5):])) if offset else 0.0
    a0 = float(y[0] - c0)
    tau0 = float(np.clip(0.02, tau_bounds[0] * 1.01, tau_bounds[1] * 0.99))
    span = float(np.ptp(y)) or 1.0

    def resid(p: np.ndarray) -> np.ndarray:
        return p[0] * np.exp(-t / p[1]) + (p[2] if offset else 0.0) - y

    p0 = [a0, tau0, c0] if offset else [a0, tau0]
    lo = [-np.inf, tau_bounds[0], -np.inf][: len(p0)]
    hi = [np.inf, tau_bounds[1], np.inf][: len(p0)]
    try:
        fit = least_squares(resid, p0, bounds=(lo, hi), x_scale=[span, tau0, span][: len(p0)])
    except (RuntimeError, ValueError):
        return float("nan"), float("nan"), float("nan"), float("nan")
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(fit.fun**2)) / ss if ss > 0 else 0.0
    c = float(fit.x[2]) if offset else 0.0
    return float(fit.x[0]), float(fit.x[1]), c, r2


def remove_decay_exponential(
    data: np.ndarray,
    sfreq: float,
    starts: np.ndarray,
    ch_names: list[str],
    fit_length: float = 0.1,
    tau_bounds: tuple[float, float] = (0.001, 0.1),
    min_snr: float = 5.0,
    r2_min: float = 0.5,
    baseline: tuple[float, float] = (-0.3, -0.003),
    pulse_offset: np.ndarray | None = None,
) -> ArtifactDecay:
    """Subtract a per-channel exponential decay after every pulse (in place).

    Parameters
    ----------
    data : ndarray
        ``(n_channels, n_times)`` continuous data, changed in place.
    sfreq : float
        Sampling rate (Hz).
    starts : ndarray of int
        First sample after each removed pulse window (``t0``).
    ch_names : list of str
        Channel names (for the record).
    fit_length : float
        Seconds after ``t0`` used for the fit.
    tau_bounds : (float, float)
        Allowed time constants (s).
    min_snr : float
        Fitted ``|A|`` must exceed this many pre-pulse standard deviations of the average.
    r2_min : float
        The exponential must explain at least this fraction of the variance of the average
        over its first ``5 tau`` (a decay dominates there; a TEP alone does not).
    baseline : (float, float)
        Pre-pulse window (s, relative to the pulse) for that standard deviation.
    pulse_offset : ndarray of int, optional
        Samples from each pulse to its ``t0`` (to locate the baseline); default
        ``0.010 * sfreq``.

    Returns
    -------
    ArtifactDecay
    """
    starts = np.asarray(starts, int)
    n_fit = int(round(fit_length * sfreq))
    n_ch, n_times = data.shape
    if pulse_offset is None:
        pulse_offset = np.full(len(starts), int(round(0.010 * sfreq)))
    pulses = starts - np.asarray(pulse_offset, int)
    b0, b1 = int(round(baseline[0] * sfreq)), int(round(baseline[1] * sfreq))
    if b1 <= b0:
        raise AnalysisError(f"decay baseline {baseline} is shorter than one sample")
    ok = (starts + n_fit <= n_times) & (pulses + b0 >= 0)
    if not ok.any():
        raise AnalysisError("no pulse has enough data around it to fit the decay artifact")
    idx = starts[ok][:, None] + np.arange(n_fit)[None, :]
    base_idx = pulses[ok][:, None] + np.arange(b0, b1)[None, :]
    base = data[:, base_idx]  # (n_ch, n_trials, n_base)
    level = base.mean(axis=2, keepdims=True)
    seg = data[:, idx] - level  # relative to each trial's pre-pulse level
    avg = seg.mean(axis=1)
    base_sd = (base - level).mean(axis=1).std(axis=1)
    t = np.arange(n_fit) / sfreq
    amps = np.full(n_ch, np.nan)
    taus = np.full(n_ch, np.nan)
    corrected = []
    for c in range(n_ch):
        a, tau, _, _ = _fit_exponential(t, avg[c], tau_bounds, offset=False)
        if (not np.isfinite(a) or abs(a) <= min_snr * base_sd[c]
                or not 1.01 * tau_bounds[0] <= tau <= 0.99 * tau_bounds[1]):
            continue
        early = t <= 5 * tau
        if early.sum() < 5:  # too few samples to tell a decay from a single deviant sample
            continue
        fit_early = a * np.exp(-t[early] / tau)
        ss = float(np.sum((avg[c, early] - avg[c, early].mean()) ** 2))
        r2 = 1 - float(np.sum((avg[c, early] - fit_early) ** 2)) / ss if ss > 0 else 0.0
        if r2 < r2_min:
            continue
        amps[c], taus[c] = a, tau
        n_sub = min(max(n_fit, int(np.ceil(10 * tau * sfreq))), int(0.5 * sfreq))
        e_fit = np.exp(-t / tau)
        a_trials = seg[c] @ e_fit / (e_fit @ e_fit)  # per-trial amplitude, tau fixed
        e_sub = np.exp(-np.arange(n_sub) / sfreq / tau)
        for s, a_trial in zip(starts, _spread(a_trials, ok)):
            if np.isnan(a_trial):
                continue
            stop = min(s + n_sub, n_times)
            data[c, s:stop] -= a_trial * e_sub[: stop - s]
        corrected.append(ch_names[c])
    logger.info("exponential decay removed on %d of %d channels", len(corrected), n_ch)
    return ArtifactDecay("exponential", amps, taus, corrected,
                    {"fit_length": fit_length, "tau_bounds": tau_bounds, "min_snr": min_snr,
                     "r2_min": r2_min, "baseline": baseline, "n_trials_fitted": int(ok.sum())})


def _spread(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    out = np.full(ok.shape, np.nan)
    out[ok] = values
    return out


def remove_decay_ica(
    data: np.ndarray,
    sfreq: float,
    pulse_samples: np.ndarray,
    window_end: float,
    ch_names: list[str],
    n_components: int | float | None = None,
    r2_min: float = 0.9,
    tau_bounds: tuple[float, float] = (0.001, 0.1),
    min_snr: float = 5.0,
    seed: int = 0,
) -> ArtifactDecay:
    """Remove ICA components that look like a decay artifact (in place).

    Parameters
    ----------
    data : ndarray
        ``(n_channels, n_times)`` EEG data (V) after the pulse window was interpolated.
    sfreq : float
        Sampling rate (Hz).
    pulse_samples : ndarray of int
        Pulse samples.
    window_end : float
        End of the removed pulse window (s after the pulse): the decay is examined from here.
    ch_names : list of str
        Channel names.
    n_components : int or float, optional
        Passed to :class:`mne.preprocessing.ICA`; default ``min(n_channels - 1, 20)``.
    r2_min, tau_bounds, min_snr : see the module docstring.
    seed : int
        ICA random state (results are reproducible).

    Returns
    -------
    ArtifactDecay
    """
    import mne

    n_ch = data.shape[0]
    if n_ch < 3:
        raise AnalysisError("ICA decay removal needs at least 3 EEG channels")
    info = mne.create_info(ch_names, sfreq, "eeg", verbose=False)
    raw = mne.io.RawArray(data, info, verbose=False)
    hp = raw.copy().filter(1.0, None, verbose=False)
    tmin, tmax = -0.1, 0.5
    i0, i1 = int(round(tmin * sfreq)), int(round(tmax * sfreq))
    p = np.asarray(pulse_samples, int)
    p = p[(p + i0 >= 0) & (p + i1 < data.shape[1])]
    events = np.column_stack([p, np.zeros_like(p), np.ones_like(p)])
    epochs = mne.Epochs(hp, events, tmin=tmin, tmax=tmax, baseline=None, preload=True,
                        verbose=False)
    if n_components is None:
        n_components = min(n_ch - 1, 20)
    ica = mne.preprocessing.ICA(n_components=n_components, method="fastica",
                                random_state=seed, max_iter=1000, verbose=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica.fit(epochs, verbose=False)
    src = ica.get_sources(epochs).get_data().mean(axis=0)  # (n_comp, n_times)
    times = epochs.times
    t_dec = (times >= window_end) & (times <= window_end + 0.1)
    base = times < -0.005
    t = times[t_dec] - times[t_dec][0]
    picked, amps, taus, scores = [], [], [], {}
    for k in range(src.shape[0]):
        a, tau, _, r2 = _fit_exponential(t, src[k, t_dec], tau_bounds)
        snr = abs(src[k, t_dec][0]) / (src[k, base].std() or np.inf)
        scores[f"ICA{k:03d}"] = {"r2": r2, "tau": tau, "snr": float(snr)}
        if np.isfinite(r2) and r2 >= r2_min and snr >= min_snr and tau < tau_bounds[1]:
            picked.append(k)
            amps.append(a)
            taus.append(tau)
    if picked:
        ica.exclude = picked
        ica.apply(raw, verbose=False)
        data[:] = raw.get_data()
    logger.info("ICA decay removal: excluded %s", picked)
    return ArtifactDecay("ica", np.asarray(amps), np.asarray(taus),
                    [f"ICA{k:03d}" for k in picked],
                    {"n_components": int(ica.n_components_), "scores": scores,
                     "r2_min": r2_min, "min_snr": min_snr, "tau_bounds": tau_bounds})
