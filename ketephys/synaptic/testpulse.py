"""Access (series) resistance, membrane resistance and capacitance from a test pulse.

Voltage clamp, a step ``dV``: the current relaxes as ``I_ss + a * exp(-u / tau)`` after the
step onset (least-squares fit over the step, ``u`` from the onset); the instantaneous
current ``dI_0 = (I_ss - I_0) + a`` (fit extrapolated to the onset) gives
``Rs = dV / dI_0``, the steady state gives ``Rs + Rm = dV / (I_ss - I_0)``, and
``Cm = tau * (Rs + Rm) / (Rs * Rm)``.

Current clamp, a step ``dI``: ``V_ss + a * exp(-u / tau)``; the instantaneous jump gives
``Rs = dV_0 / dI`` (unbalanced bridge), the steady state ``Rs + Rm = (V_ss - V_0) / dI``, and
``Cm = tau / Rm``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._check import check_option
from ..errors import AnalysisError
from ..settings import check_keywords

__all__ = ["measure_test_pulse", "TEST_PULSE_COLUMNS"]

#: Columns of :func:`measure_test_pulse`.
TEST_PULSE_COLUMNS = ("sweep", "rs", "rm", "cm", "tp_tau", "tp_baseline")


@check_keywords(renamed={"baseline": "baseline_s"})
def measure_test_pulse(data: np.ndarray, sfreq: float, start: float, duration: float,
                       amplitude: float, mode: str = "voltage_clamp",
                       baseline_s: float = 5e-3) -> pd.DataFrame:
    """Rs (Ohm), Rm (Ohm), Cm (F) and the transient time constant of every sweep.

    Parameters
    ----------
    data : ndarray
        ``(n_sweeps, n_times)`` current (A, voltage clamp) or voltage (V, current clamp).
    sfreq : float
        Sampling rate (Hz).
    start, duration : float
        Step onset and length (s from the sweep start).
    amplitude : float
        Step size: V (voltage clamp) or A (current clamp).
    mode : {"voltage_clamp", "current_clamp"}
        Recording mode: ``data`` is a current (voltage clamp) or a voltage.
    baseline_s : float
        Seconds before the step averaged as the pre-step level. Renamed from
        ``baseline`` in 0.2.

    Returns
    -------
    pandas.DataFrame
        :data:`TEST_PULSE_COLUMNS` (``tp_baseline`` is the pre-step level).

    Raises
    ------
    SettingsError
        Another ``mode``.
    AnalysisError
        A step that does not fit the sweep, or a zero amplitude.
    """
    from scipy.optimize import curve_fit

    check_option("mode", mode, ("voltage_clamp", "current_clamp"))
    x = np.atleast_2d(np.asarray(data, float))
    i0 = int(round(start * sfreq))
    i1 = int(round((start + duration) * sfreq))
    ib = max(0, i0 - int(round(baseline_s * sfreq)))
    if i0 - ib < 2 or i1 > x.shape[1] or i1 - i0 < 10 or amplitude == 0:
        raise AnalysisError(f"test pulse {start:g}-{start + duration:g} s (amplitude "
                            f"{amplitude:g}) does not fit the {x.shape[1] / sfreq:g} s sweep")
    u = np.arange(1, i1 - i0) / sfreq
    rows = []
    for s in range(x.shape[0]):
        base = float(x[s, ib:i0].mean())
        seg = x[s, i0 + 1:i1]
        tail = seg[-max(3, seg.size // 5):].mean()
        a0 = seg[0] - tail
        target = tail + a0 / np.e
        cross = np.flatnonzero(np.sign(seg - target) != np.sign(a0))
        tau0 = u[cross[0]] if cross.size else u[-1] / 5
        try:
            popt, _ = curve_fit(lambda t, c, a, tau: c + a * np.exp(-t / tau), u, seg,
                                p0=(tail, a0, max(tau0, 1 / sfreq)), maxfev=5000)
            c, a, tau = (float(v) for v in popt)
        except (RuntimeError, ValueError):
            c, a, tau = float(tail), float("nan"), float("nan")
        d_ss = c - base
        d_0 = d_ss + a
        if mode == "voltage_clamp":
            rs = amplitude / d_0
            rt = amplitude / d_ss
            rm = rt - rs
            cm = tau * rt / (rs * rm)
        else:  # current clamp
            rs = d_0 / amplitude
            rt = d_ss / amplitude
            rm = rt - rs
            cm = tau / rm
        rows.append({"sweep": s, "rs": rs, "rm": rm, "cm": cm, "tp_tau": tau,
                     "tp_baseline": base})
    return pd.DataFrame(rows, columns=list(TEST_PULSE_COLUMNS))
