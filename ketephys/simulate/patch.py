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
    """The rise time constant giving a difference of exponentials a 10-90 % rise time.

    Parameters
    ----------
    rise_time : float
        Wanted 10-90 % rise time (s).
    decay_tau : float
        Decay time constant (s).

    Returns
    -------
    float
        The rise time constant (s), solved to 1e-12 s.

    Raises
    ------
    KetephysError
        When no rise time constant between ``decay_tau * 1e-4`` and ``decay_tau * 0.999``
        gives ``rise_time``.
    """
    from scipy.optimize import brentq

    lo, hi = decay_tau * 1e-4, decay_tau * 0.999
    if not _rise_10_90(lo, decay_tau) < rise_time < _rise_10_90(hi, decay_tau):
        raise KetephysError(f"rise time {rise_time} s is not reachable with decay {decay_tau} s")
    return float(brentq(lambda r: _rise_10_90(r, decay_tau) - rise_time, lo, hi, xtol=1e-12))


def psc_waveform(t: np.ndarray, amplitude: float, rise_time: float, decay_tau: float
                 ) -> np.ndarray:
    """A response starting at t=0 that peaks at ``amplitude`` with the given 10-90 % rise.

    Parameters
    ----------
    t : ndarray
        Times (s); the response is 0 at and before 0.
    amplitude : float
        Signed peak value (any unit: A for an EPSC, V for an EPSP).
    rise_time : float
        10-90 % rise time (s).
    decay_tau : float
        Decay time constant (s).

    Returns
    -------
    ndarray
        The response at ``t``, same shape.
    """
    return amplitude * _dexp(t, rise_tau_for(rise_time, decay_tau), decay_tau)


@dataclass
class PatchTruth:
    """What :func:`simulate_patch` simulated (SI units: A in voltage clamp, V in current
    clamp; s; Ohm; F).

    Attributes
    ----------
    mode : {"voltage_clamp", "current_clamp"}
        Recording mode.
    stim_times : list of float
        Stimulus times within every sweep (s from the sweep start, on the sample grid).
    amplitudes : list of float
        Signed response peak of every stimulus of the train (``amplitude * train_ratios``);
        the same in every sweep.
    rise_time : float
        10-90 % rise time of every response (s).
    rise_tau : float
        Rise time constant solved from ``rise_time`` and ``decay_tau`` (s).
    decay_tau : float
        Decay time constant (s).
    latency : float
        Response onset after its stimulus (s).
    train_ratios : list of float
        Response n / response 1.
    holding : float
        Holding current (A) or resting potential (V): the baseline of every sweep.
    rs : ndarray, shape (n_sweeps,)
        Access resistance of every sweep (Ohm).
    rm, cm : float
        Membrane resistance (Ohm) and capacitance (F).
    test_pulse : dict or None
        ``{"start", "duration", "amplitude"}`` of the test pulse, None without one.
    settings : dict
        ``sfreq`` (Hz), ``noise_sd`` (A or V) and ``n_sweeps``.
    """

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


#: Defaults of each recording mode: first-response peak, holding level, artifact size and
#: noise SD (A in voltage clamp, V in current clamp), and the test pulse (a voltage step in
#: voltage clamp, a current step in current clamp).
_MODE_DEFAULTS: dict[str, dict[str, Any]] = {
    "voltage_clamp": dict(amplitude=-200e-12, holding=-40e-12, artifact_amplitude=2e-9,
                          noise_sd=3e-12,
                          test_pulse=dict(start=0.02, duration=0.02, amplitude=-5e-3)),
    "current_clamp": dict(amplitude=3e-3, holding=-0.07, artifact_amplitude=20e-3,
                          noise_sd=1e-4,
                          test_pulse=dict(start=0.02, duration=0.05, amplitude=-50e-12)),
}


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

    Every sweep holds the same train of responses and stimulus artifacts on the holding
    level, the test pulse (whose shape follows that sweep's access resistance) and
    independent white noise.

    Parameters
    ----------
    n_sweeps : int
        Number of sweeps (default 10).
    sweep_interval : float
        Seconds from one sweep start to the next (default 10 s).
    sfreq : float
        Sampling rate (Hz, default 20 kHz).
    sweep_duration : float
        Sweep length (s, default 0.5 s); it must reach 30 ms past the last stimulus.
    mode : {"voltage_clamp", "current_clamp"}
        Voltage clamp records a current channel ``Im`` (A, EPSCs); current clamp a voltage
        channel ``Vm`` (V, EPSPs).
    stim_time : float
        First stimulus of the train (s from the sweep start, default 0.2 s).
    n_pulses : int
        Stimuli in the train (default 5).
    pulse_interval : float
        Seconds between stimuli (default 20 ms, 50 Hz).
    amplitude : float, optional
        Signed first-response peak (default -200 pA in voltage clamp, +3 mV in current
        clamp).
    rise_time : float
        10-90 % rise time of every response (s, default 1 ms).
    decay_tau : float
        Decay time constant (s, default 5 ms).
    latency : float
        Response onset after its stimulus (s, default 2 ms).
    train_ratios : sequence of float, optional
        Response n / response 1, one per stimulus (default ``ppr ** (n - 1)``).
    ppr : float
        Paired-pulse ratio of the default train ratios (default 0.7: depression; > 1
        facilitation). Ignored when ``train_ratios`` is given.
    holding : float, optional
        Holding current (A, default -40 pA) or resting potential (V, default -70 mV).
    test_pulse : dict, optional
        ``{"start": s, "duration": s, "amplitude": V or A}``; default a -5 mV, 20 ms step at
        20 ms (voltage clamp) or a -50 pA, 50 ms step (current clamp). ``False`` for none.
    rs : float
        Access (series) resistance of the first sweep (Ohm, default 10 MOhm).
    rs_change : float
        Fractional change of ``rs`` by the last sweep, linear over the sweeps (0.5 = +50 %).
    rm : float
        Membrane resistance (Ohm, default 200 MOhm).
    cm : float
        Membrane capacitance (F, default 100 pF).
    artifact_amplitude : float, optional
        Stimulus artifact size (default 2 nA in voltage clamp, 20 mV in current clamp).
    noise_sd : float, optional
        White noise SD (default 3 pA in voltage clamp, 0.1 mV in current clamp).
    meta : dict, optional
        Study metadata of the recording.
    seed : int or numpy.random.Generator, optional
        Seed of the noise (None: fresh entropy).

    Returns
    -------
    recording : Recording
        Episodic, one channel. Test-pulse times are also written to ``events``
        (``description="test_pulse"``, with an ``amplitude`` column) so the analyser
        finds them.
    truth : PatchTruth
        What was simulated.

    Raises
    ------
    KetephysError
        An unknown ``mode``, as many ``train_ratios`` as pulses missing, a sweep too short
        for the train, or a ``rise_time`` no response with ``decay_tau`` can have.
    """
    rng = check_random_state(seed)
    if mode not in ("voltage_clamp", "current_clamp"):
        raise KetephysError(f"mode must be 'voltage_clamp' or 'current_clamp', got {mode!r}")
    vc = mode == "voltage_clamp"
    defaults = _MODE_DEFAULTS[mode]
    amplitude = defaults["amplitude"] if amplitude is None else float(amplitude)
    holding = defaults["holding"] if holding is None else float(holding)
    art = defaults["artifact_amplitude"] if artifact_amplitude is None else artifact_amplitude
    noise = defaults["noise_sd"] if noise_sd is None else noise_sd
    if test_pulse is None:
        test_pulse = dict(defaults["test_pulse"])
    ratios = _train_ratios(train_ratios, ppr, n_pulses)
    times = np.arange(int(round(sweep_duration * sfreq))) / sfreq
    stims = _stimulus_times(stim_time, n_pulses, pulse_interval, sfreq, sweep_duration)
    tau_r = rise_tau_for(rise_time, decay_tau)
    base = _evoked_trace(times, sfreq, holding, stims, [amplitude * r for r in ratios],
                         (tau_r, decay_tau), latency, art)
    rs_sweeps = rs * (1 + rs_change * np.linspace(0, 1, n_sweeps))
    data = np.empty((n_sweeps, 1, times.size))
    for i in range(n_sweeps):
        data[i, 0] = base
        if test_pulse:
            _add_test_pulse(data[i, 0], times, sfreq, test_pulse, vc, rs_sweeps[i], rm, cm)
    data += rng.normal(0, noise, data.shape)
    rec = Recording(data, sfreq, ["Im" if vc else "Vm"], ch_types=["im" if vc else "vm"],
                    units=["A" if vc else "V"],
                    sweep_starts=np.arange(n_sweeps) * sweep_interval,
                    events=_test_pulse_events(test_pulse, n_sweeps), meta=meta,
                    source=Source(None, "simulated", "ketephys.simulate.simulate_patch"))
    truth = PatchTruth(mode=mode, stim_times=stims,
                       amplitudes=[amplitude * r for r in ratios], rise_time=rise_time,
                       rise_tau=tau_r, decay_tau=decay_tau, latency=latency,
                       train_ratios=ratios, holding=holding, rs=rs_sweeps, rm=rm, cm=cm,
                       test_pulse=dict(test_pulse) if test_pulse else None,
                       settings=dict(sfreq=sfreq, noise_sd=noise, n_sweeps=n_sweeps))
    return rec, truth


def _train_ratios(train_ratios: Sequence[float] | None, ppr: float, n_pulses: int
                  ) -> list[float]:
    """Response n / response 1 of the train: as given, or ``ppr ** (n - 1)``."""
    ratios = list(train_ratios) if train_ratios is not None else [ppr ** k for k in
                                                                   range(n_pulses)]
    if len(ratios) != n_pulses:
        raise KetephysError(f"{len(ratios)} train ratios for {n_pulses} pulses")
    return ratios


def _stimulus_times(stim_time: float, n_pulses: int, pulse_interval: float, sfreq: float,
                    sweep_duration: float) -> list[float]:
    """The train's stimulus times, on the sample grid; the last response must fit (30 ms)."""
    stims = [round((stim_time + k * pulse_interval) * sfreq) / sfreq for k in range(n_pulses)]
    if stims[-1] + 0.03 > sweep_duration:
        raise KetephysError("sweep_duration too short for the train")
    return stims


def _evoked_trace(times: np.ndarray, sfreq: float, holding: float, stims: list[float],
                  peaks: list[float], taus: tuple[float, float], latency: float,
                  artifact: float) -> np.ndarray:
    """The noiseless sweep without test pulse: the holding level, and at every stimulus an
    artifact (``artifact`` on the stimulus sample, then ``-artifact / 2`` decaying in
    0.1 ms) and, ``latency`` later, a response peaking at its entry of ``peaks``."""
    tau_r, tau_d = taus
    dt = 1 / sfreq
    n_times = times.size
    trace = np.full(n_times, holding)
    for t0, peak in zip(stims, peaks):
        trace += peak * _dexp(times - t0 - latency, tau_r, tau_d)
        i0 = int(round(t0 * sfreq))
        trace[i0] += artifact
        if i0 + 1 < n_times:
            tail = times[i0 + 1:] - t0 - dt
            trace[i0 + 1:] += -0.5 * artifact * np.exp(-tail / 1e-4)
    return trace


def _add_test_pulse(sweep: np.ndarray, times: np.ndarray, sfreq: float, test_pulse: dict,
                    voltage_clamp: bool, r_s: float, rm: float, cm: float) -> None:
    """Add the response to the test pulse (its onset and its reverse at the offset) to
    ``sweep`` in place, for access resistance ``r_s`` (the model of the module docstring)."""
    t0, dur, amp = test_pulse["start"], test_pulse["duration"], test_pulse["amplitude"]
    on = round(t0 * sfreq) / sfreq
    off = round((t0 + dur) * sfreq) / sfreq
    if voltage_clamp:   # current through Rs charging Cm, settling at dV / (Rs + Rm)
        i_ss = amp / (r_s + rm)
        i_0 = amp / r_s
        tau = cm * r_s * rm / (r_s + rm)
    else:               # voltage: the step across Rs at once, then the membrane charging
        i_ss = amp * (r_s + rm)
        i_0 = amp * r_s
        tau = rm * cm
    for edge, sign in ((on, 1.0), (off, -1.0)):
        u = times - edge
        m = u >= -1e-12
        sweep[m] += sign * (i_ss + (i_0 - i_ss) * np.exp(-u[m] / tau)) if voltage_clamp else \
            sign * (i_0 + (i_ss - i_0) * (1 - np.exp(-u[m] / tau)))


def _test_pulse_events(test_pulse: dict | bool, n_sweeps: int) -> pd.DataFrame | None:
    """One ``test_pulse`` event per sweep (with the step's ``amplitude``), None without."""
    if not test_pulse:
        return None
    return pd.DataFrame({"onset": float(test_pulse["start"]),
                         "duration": float(test_pulse["duration"]),
                         "description": "test_pulse", "sweep": np.arange(n_sweeps),
                         "amplitude": float(test_pulse["amplitude"])})
