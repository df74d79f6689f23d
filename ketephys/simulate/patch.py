"""Simulated whole-cell recordings: evoked EPSC (or EPSP) trains with a test pulse.

Each stimulus gives a stimulus artifact (one sample up, one down, decaying in 0.1 ms) and,
``latency`` later, a response ``A_n * (exp(-t/tau_d) - exp(-t/tau_r)) / norm`` that peaks at
exactly ``A_n`` (norm is the peak of the difference of exponentials); ``tau_r`` is solved so
that the 10-90 % rise time is ``rise_time``. ``A_n = amplitude * train_ratios[n]``.

Voltage clamp: the test pulse is a voltage step ``dV`` through the series (access)
resistance ``Rs`` into a cell of membrane resistance ``Rm`` and capacitance ``Cm``; the
current is ``dV/(Rs+Rm) + (dV/Rs - dV/(Rs+Rm)) * exp(-t/tau)``,
``tau = Cm * Rs * Rm / (Rs + Rm)``, and the reverse at the end of the step. ``rs_change``
makes Rs change linearly over the sweeps (0.5 = +50 % by the last sweep).

Current clamp: the test pulse is a current step ``dI`` giving ``dI * (Rs + Rm)`` with the
membrane time constant ``Rm * Cm`` (bridge not balanced); responses are EPSPs (V).
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

__all__ = ["simulate_patch", "PatchTruth", "psc_waveform", "rise_tau_for"]


def _dexp(t: np.ndarray, tau_r: float, tau_d: float) -> np.ndarray:
    t = np.asarray(t, float)
    out = np.where(t > 0, np.exp(-np.clip(t, 0, None) / tau_d)
                   - np.exp(-np.clip(t, 0, None) / tau_r), 0.0)
    t_peak = tau_r * tau_d / (tau_d - tau_r) * np.log(tau_d / tau_r)
    peak = np.exp(-t_peak / tau_d) - np.exp(-t_peak / tau_r)
    return out / peak


def _rise_10_90(tau_r: float, tau_d: float) -> float:
    from scipy.optimize import brentq

    t_peak = tau_r * tau_d / (tau_d - tau_r) * np.log(tau_d / tau_r)

    def cross(level: float) -> float:
        return brentq(lambda x: float(_dexp(np.array([x]), tau_r, tau_d)[0]) - level,
                      0.0, t_peak, xtol=1e-15)

    return cross(0.9) - cross(0.1)


def rise_tau_for(rise_time: float, decay_tau: float) -> float:
    """The rise time constant giving a 10-90 % rise time ``rise_time`` (s)."""
    from scipy.optimize import brentq

    lo, hi = decay_tau * 1e-4, decay_tau * 0.999
    if not _rise_10_90(lo, decay_tau) < rise_time < _rise_10_90(hi, decay_tau):
        raise KetephysError(f"rise time {rise_time} s is not reachable with decay {decay_tau} s")
    return float(brentq(lambda r: _rise_10_90(r, decay_tau) - rise_time, lo, hi, xtol=1e-12))


def psc_waveform(t: np.ndarray, amplitude: float, rise_time: float, decay_tau: float
                 ) -> np.ndarray:
    """A response starting at t=0 that peaks at ``amplitude`` with the given 10-90 % rise."""
    return amplitude * _dexp(t, rise_tau_for(rise_time, decay_tau), decay_tau)


@dataclass
class PatchTruth:
    """What :func:`simulate_patch` simulated (SI units)."""

    mode: str
    stim_times: list
    amplitudes: list            # per stimulus (signed), same in every sweep
    rise_time: float
    rise_tau: float
    decay_tau: float
    latency: float
    train_ratios: list
    holding: float
    rs: np.ndarray              # per sweep
    rm: float
    cm: float
    test_pulse: dict | None
    settings: dict = field(default_factory=dict)


def simulate_patch(
    n_sweeps: int = 10,
    sweep_interval: float = 10.0,
    sfreq: float = 20000.0,
    sweep_duration: float = 0.5,
    mode: str = "voltage_clamp",
    stim_time: float = 0.2,
    n_pulses: int = 5,
    pulse_interval: float = 0.02,
    amplitude: float | None = None,
    rise_time: float = 1e-3,
    decay_tau: float = 5e-3,
    latency: float = 2e-3,
    train_ratios: Sequence[float] | None = None,
    ppr: float = 0.7,
    holding: float | None = None,
    test_pulse: dict | None = None,
    rs: float = 10e6,
    rs_change: float = 0.0,
    rm: float = 200e6,
    cm: float = 100e-12,
    artifact_amplitude: float | None = None,
    noise_sd: float | None = None,
    meta: dict | None = None,
    seed: Any = None,
) -> tuple[Recording, PatchTruth]:
    """Simulate whole-cell sweeps with evoked response trains and a test pulse.

    Parameters
    ----------
    n_sweeps, sweep_interval, sfreq, sweep_duration : numbers
        Sweep layout (s, Hz).
    mode : {"voltage_clamp", "current_clamp"}
        Voltage clamp records a current channel ``Im`` (A, EPSCs); current clamp a voltage
        channel ``Vm`` (V, EPSPs).
    stim_time, n_pulses, pulse_interval : numbers
        Train of stimuli in every sweep.
    amplitude : float, optional
        Signed first-response peak (default -200 pA in voltage clamp, +3 mV in current clamp).
    rise_time, decay_tau, latency : float
        10-90 % rise time, decay time constant and onset after the stimulus (s).
    train_ratios : sequence of float, optional
        Response n / response 1 (default ``ppr ** (n - 1)``: depression when ppr < 1).
    holding : float, optional
        Holding current (A, default -40 pA) or resting potential (V, default -70 mV).
    test_pulse : dict, optional
        ``{"start": s, "duration": s, "amplitude": V or A}``; default a -5 mV, 20 ms step at
        20 ms (voltage clamp) or a -50 pA, 50 ms step (current clamp). ``False`` for none.
    rs, rs_change, rm, cm : float
        Access resistance (Ohm), its fractional change by the last sweep, membrane
        resistance (Ohm) and capacitance (F).
    artifact_amplitude, noise_sd : float, optional
        Defaults: 2 nA and 3 pA (voltage clamp) or 20 mV and 0.1 mV (current clamp).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (Recording, PatchTruth)
        Test-pulse times are also written to ``events`` (``description="test_pulse"``, with
        an ``amplitude`` column) so the analyser finds them.
    """
    rng = check_random_state(seed)
    vc = mode == "voltage_clamp"
    if mode not in ("voltage_clamp", "current_clamp"):
        raise KetephysError(f"mode must be 'voltage_clamp' or 'current_clamp', got {mode!r}")
    amplitude = (-200e-12 if vc else 3e-3) if amplitude is None else float(amplitude)
    holding = (-40e-12 if vc else -0.07) if holding is None else float(holding)
    art = (2e-9 if vc else 20e-3) if artifact_amplitude is None else artifact_amplitude
    noise = (3e-12 if vc else 1e-4) if noise_sd is None else noise_sd
    if test_pulse is None:
        test_pulse = (dict(start=0.02, duration=0.02, amplitude=-5e-3) if vc else
                      dict(start=0.02, duration=0.05, amplitude=-50e-12))
    ratios = list(train_ratios) if train_ratios is not None else [ppr ** k for k in
                                                                   range(n_pulses)]
    if len(ratios) != n_pulses:
        raise KetephysError(f"{len(ratios)} train ratios for {n_pulses} pulses")
    n_times = int(round(sweep_duration * sfreq))
    times = np.arange(n_times) / sfreq
    dt = 1 / sfreq
    stims = [round((stim_time + k * pulse_interval) * sfreq) / sfreq for k in range(n_pulses)]
    if stims[-1] + 0.03 > sweep_duration:
        raise KetephysError("sweep_duration too short for the train")
    tau_r = rise_tau_for(rise_time, decay_tau)
    base = np.full(n_times, holding)
    for t0, r in zip(stims, ratios):
        base += amplitude * r * _dexp(times - t0 - latency, tau_r, decay_tau)
        i0 = int(round(t0 * sfreq))
        base[i0] += art
        if i0 + 1 < n_times:
            tail = times[i0 + 1:] - t0 - dt
            base[i0 + 1:] += -0.5 * art * np.exp(-tail / 1e-4)
    rs_sweeps = rs * (1 + rs_change * np.linspace(0, 1, n_sweeps))
    data = np.empty((n_sweeps, 1, n_times))
    for i in range(n_sweeps):
        y = base.copy()
        if test_pulse:
            t0, dur, amp = test_pulse["start"], test_pulse["duration"], test_pulse["amplitude"]
            on = round(t0 * sfreq) / sfreq
            off = round((t0 + dur) * sfreq) / sfreq
            r_s = rs_sweeps[i]
            if vc:
                i_ss = amp / (r_s + rm)
                i_0 = amp / r_s
                tau = cm * r_s * rm / (r_s + rm)
            else:
                i_ss = amp * (r_s + rm)
                i_0 = amp * r_s
                tau = rm * cm
            for edge, sign in ((on, 1.0), (off, -1.0)):
                u = times - edge
                m = u >= -1e-12
                y[m] += sign * (i_ss + (i_0 - i_ss) * np.exp(-u[m] / tau)) if vc else \
                    sign * (i_0 + (i_ss - i_0) * (1 - np.exp(-u[m] / tau)))
        data[i, 0] = y
    data += rng.normal(0, noise, data.shape)
    events = None
    if test_pulse:
        events = pd.DataFrame({"onset": float(test_pulse["start"]),
                               "duration": float(test_pulse["duration"]),
                               "description": "test_pulse", "sweep": np.arange(n_sweeps),
                               "amplitude": float(test_pulse["amplitude"])})
    rec = Recording(data, sfreq, ["Im" if vc else "Vm"], ch_types=["im" if vc else "vm"],
                    units=["A" if vc else "V"],
                    sweep_starts=np.arange(n_sweeps) * sweep_interval, events=events,
                    meta=meta, source=Source(None, "simulated", "ketephys.simulate.simulate_patch"))
    truth = PatchTruth(mode=mode, stim_times=stims,
                       amplitudes=[amplitude * r for r in ratios], rise_time=rise_time,
                       rise_tau=tau_r, decay_tau=decay_tau, latency=latency,
                       train_ratios=ratios, holding=holding, rs=rs_sweeps, rm=rm, cm=cm,
                       test_pulse=dict(test_pulse) if test_pulse else None,
                       settings=dict(sfreq=sfreq, noise_sd=noise, n_sweeps=n_sweeps))
    return rec, truth
