"""TEP peak detection and its significance.

Peak (TESA's definition, without its silent fallback): inside the component's window, a
sample that is more extreme than each of its ``n_neighbours`` neighbours on both sides
(strictly lower for an ``N`` component, strictly higher for a ``P`` component; neighbours may
lie outside the window). When several qualify, the most extreme is the peak. When none does,
latency and amplitude are NaN and ``found`` is False -- never the value at the nominal
latency. For GMFP/LMFP (always positive) every component is searched as a maximum.

Significance is a sign-flip randomisation test over trials: under the null hypothesis of no
pulse-locked response, each baseline-corrected trial is as likely to appear with its sign
reversed. For ``n_permutations`` random sign patterns the average is recomputed and, in each
component window, its most extreme value of the component's polarity is taken; the null value
of a permutation is the maximum of these over components and over channels (for channel
peaks), so the test holds the family-wise error rate over the whole peak table of a family
(channels, ROI or GMFP). ``p = (1 + #{null >= observed}) / (1 + n_permutations)``; a found
peak is ``significant`` when ``p < alpha``. This compares each peak with the trial-to-trial
variability of the recording (what the average of the same trials looks like without a
consistent response) and is free of the selection bias of testing at the picked latency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..errors import AnalysisError

__all__ = ["DEFAULT_WINDOWS", "find_peaks", "polarity", "peak_null", "PEAK_COLUMNS"]

#: Component windows in seconds after the pulse (:ref:`science-tms`).
DEFAULT_WINDOWS: dict[str, tuple[float, float]] = {
    "N15": (0.010, 0.020),
    "P30": (0.020, 0.040),
    "N45": (0.040, 0.055),
    "P60": (0.050, 0.070),
    "N100": (0.070, 0.150),
    "P180": (0.150, 0.240),
}

PEAK_COLUMNS = ("component", "channel", "latency_ms", "amplitude", "found", "significant",
                "p_value", "window_start_ms", "window_stop_ms")


def polarity(name: str) -> int:
    """The polarity of a TEP component from its name.

    Parameters
    ----------
    name : str
        Component name (``"N100"``, ``"P30"``...).

    Returns
    -------
    int
        -1 for names starting with N, +1 for P.

    Raises
    ------
    AnalysisError
        A name starting with another letter.
    """
    first = name.strip()[:1].upper()
    if first not in ("N", "P"):
        raise AnalysisError(f"component {name!r} must start with N or P (its polarity)")
    return -1 if first == "N" else 1


def _window_mask(times: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    return (times >= window[0] - 1e-9) & (times <= window[1] + 1e-9)


def find_peaks(
    signals: np.ndarray,
    times: np.ndarray,
    windows: Mapping[str, tuple[float, float]] | None = None,
    n_neighbours: int = 5,
    positive_only: bool = False,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Peak latency (s) and amplitude per component for each row of ``signals``.

    Parameters
    ----------
    signals : ndarray
        ``(n_signals, n_times)``.
    times : ndarray
        Seconds relative to the pulse.
    windows : dict, optional
        Component name -> ``(start, stop)`` s; default :data:`DEFAULT_WINDOWS`.
    n_neighbours : int
        Samples on each side the peak must exceed.
    positive_only : bool
        Search every component as a maximum (for GMFP/LMFP).

    Returns
    -------
    dict
        Component -> ``(latency, amplitude)`` arrays of length ``n_signals`` (NaN = none).
    """
    windows = dict(DEFAULT_WINDOWS if windows is None else windows)
    x = np.atleast_2d(np.asarray(signals, float))
    n_t = x.shape[1]
    k = int(n_neighbours)
    if k < 1:
        raise AnalysisError("n_neighbours must be >= 1")
    out = {}
    for name, win in windows.items():
        sign = 1 if positive_only else polarity(name)
        y = sign * x
        cand = np.zeros_like(y, dtype=bool)
        cand[:, k:n_t - k] = True
        for j in range(1, k + 1):
            cand[:, k:n_t - k] &= (y[:, k:n_t - k] > y[:, k - j:n_t - k - j]) & (
                y[:, k:n_t - k] > y[:, k + j:n_t - k + j])
        cand &= _window_mask(times, win)[None, :]
        score = np.where(cand, y, -np.inf)
        best = np.argmax(score, axis=1)
        has = np.isfinite(score[np.arange(len(best)), best])
        lat = np.where(has, times[best], np.nan)
        amp = np.where(has, x[np.arange(len(best)), best], np.nan)
        out[name] = (lat, amp)
    return out


def peak_null(
    epochs: np.ndarray,
    times: np.ndarray,
    windows: Mapping[str, tuple[float, float]],
    transforms: Sequence[tuple[str, object, bool]],
    n_permutations: int = 500,
    seed: int | np.random.Generator | None = 0,
    batch: int = 50,
) -> dict[tuple[str, str], np.ndarray]:
    """Sign-flip null distributions of the window extremes.

    Parameters
    ----------
    epochs : ndarray
        ``(n_trials, n_channels, n_times)`` baseline-corrected trials.
    times : ndarray
        Seconds relative to the pulse.
    windows : dict
        Component windows.
    transforms : list of (label, function, positive_only)
        Each maps a batch of averages ``(b, n_channels, n_times)`` to signals
        ``(b, n_signals, n_times)`` (e.g. the channels themselves, the ROI mean, the GMFP);
        the null keeps the maximum over signals.
    n_permutations : int
        Number of random sign patterns.
    seed : int or Generator
        Random seed (results are reproducible).
    batch : int
        Permutations computed at once (bounds memory).

    Returns
    -------
    dict
        ``(label, component)`` -> null values ``(n_permutations,)`` of the polarity-signed
        window extreme, and ``(label, "*")`` -> their maximum over components (the
        family-wise null used for significance).
    """
    rng = check_random_state(seed)
    n_tr = epochs.shape[0]
    lo = min(w[0] for w in windows.values())
    hi = max(w[1] for w in windows.values())
    sel = (times >= lo - 1e-9) & (times <= hi + 1e-9)
    sub = epochs[:, :, sel]
    t_sub = times[sel]
    flat = sub.reshape(n_tr, -1)
    out: dict[tuple[str, str], list[np.ndarray]] = {}
    done = 0
    while done < n_permutations:
        b = min(batch, n_permutations - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(b, n_tr))
        avg = (signs @ flat / n_tr).reshape(b, sub.shape[1], sub.shape[2])
        for label, fn, positive_only in transforms:
            sig = fn(avg)
            for name, win in windows.items():
                sign = 1 if positive_only else polarity(name)
                m = _window_mask(t_sub, win)
                ext = (sign * sig[:, :, m]).max(axis=(1, 2))
                out.setdefault((label, name), []).append(ext)
        done += b
    null = {key: np.concatenate(v) for key, v in out.items()}
    for label, _, _ in transforms:
        null[(label, "*")] = np.max([null[(label, n)] for n in windows], axis=0)
    return null


def peaks_table(
    found: dict[str, tuple[np.ndarray, np.ndarray]],
    labels: Sequence[str],
    windows: Mapping[str, tuple[float, float]],
    null: dict[tuple[str, str], np.ndarray] | None,
    null_label: str,
    alpha: float,
    positive_only: bool = False,
) -> pd.DataFrame:
    """Tidy rows for one family of signals (channels, ROI or GMFP)."""
    rows = []
    for name, (lat, amp) in found.items():
        sign = 1 if positive_only else polarity(name)
        nul = None if null is None else null.get((null_label, "*"))
        for i, label in enumerate(labels):
            ok = bool(np.isfinite(lat[i]))
            p = np.nan
            if ok and nul is not None:
                p = (1 + np.sum(nul >= sign * amp[i])) / (1 + nul.size)
            rows.append({"component": name, "channel": label,
                         "latency_ms": lat[i] * 1e3 if ok else np.nan,
                         "amplitude": amp[i] if ok else np.nan, "found": ok,
                         "significant": bool(ok and np.isfinite(p) and p < alpha),
                         "p_value": p, "window_start_ms": windows[name][0] * 1e3,
                         "window_stop_ms": windows[name][1] * 1e3})
    return pd.DataFrame(rows, columns=list(PEAK_COLUMNS))
