"""Simulated TMS-EEG with known TMS-evoked potentials and realistic artifacts.

Each pulse adds, on every channel:

* a **pulse artifact**: a huge biphasic deflection (millivolts, about 1 ms, clipped as an
  amplifier would) that starts exactly at the pulse sample;
* a **decay artifact**: ``d_c * exp(-t / tau_c)`` with a per-channel amplitude and time
  constant (tens of ms), varying a little from trial to trial;
* the **TEP components** N15/P30/N45/P60/N100/P180: smooth deflections (two half raised
  cosines joined at the peak) with touching, non-overlapping supports, so that every
  component peaks *exactly* at its latency, with a zero-mean spatial topography (a Gaussian
  around a centre electrode minus its channel mean) so that an average reference leaves the
  components unchanged;
* optionally a TMS-evoked muscle burst and a phase-locked evoked oscillation.

The background is spatially correlated 1/f noise; line noise and a trigger channel are
optional. ``excitability_scale`` multiplies every component (pre/post-dose scenarios).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..errors import KetephysError
from ..recording import Recording, Source

__all__ = ["simulate_tms_eeg", "TEPComponent", "TMSTruth", "DEFAULT_COMPONENTS",
           "TMS_CHANNELS", "component_waveform"]

#: 10-20 channel names in the order used for ``n_channels``: the first few surround C3 (the
#: default stimulated site) so small test montages keep it; the first 32 form a classic cap.
TMS_CHANNELS = (
    "C3", "Cz", "C4", "FC1", "FC5", "CP1", "CP5", "F3", "Fz", "F4", "P3", "Pz", "P4", "FC2",
    "FC6", "CP2", "CP6", "T7", "T8", "F7", "F8", "P7", "P8", "Fp1", "Fp2", "O1", "Oz", "O2",
    "TP9", "TP10", "PO9", "PO10",
    "AF3", "AF4", "F5", "F1", "F2", "F6", "FT7", "FC3", "FCz", "FC4", "FT8", "C5", "C1",
    "C2", "C6", "TP7", "CP3", "CPz", "CP4", "TP8", "P5", "P1", "P2", "P6", "PO7", "PO3",
    "POz", "PO4", "PO8", "Fpz", "AFz", "Iz",
)


@dataclass(frozen=True)
class TEPComponent:
    """One simulated TEP component.

    Attributes
    ----------
    name : str
        ``N15``, ``P30``...; N components are negative at their centre electrode.
    latency : float
        Peak latency in seconds after the pulse.
    amplitude : float
        Signed peak amplitude in V at the centre electrode (before ``excitability_scale``).
    rise, fall : float
        Seconds from the start of the component to its peak, and from the peak to its end.
    center : str or None
        Electrode where the component is largest; None = the stimulated channel.
    width : float
        Spatial standard deviation of the Gaussian topography, metres on the scalp.
    """

    name: str
    latency: float
    amplitude: float
    rise: float
    fall: float
    center: str | None = None
    width: float = 0.045


#: Default components: supports touch but do not overlap (peaks exactly at the latencies).
#: N15 sits at 18 ms so that it survives the default second removal window (-2..15 ms);
#: widths are wide enough that the default 100 Hz low-pass changes peaks by < 3 %.
DEFAULT_COMPONENTS: tuple[TEPComponent, ...] = (
    TEPComponent("N15", 0.018, -5e-6, 0.007, 0.007),
    TEPComponent("P30", 0.032, 6e-6, 0.007, 0.008),
    TEPComponent("N45", 0.048, -8e-6, 0.008, 0.008),
    TEPComponent("P60", 0.064, 6e-6, 0.008, 0.014),
    TEPComponent("N100", 0.105, -10e-6, 0.027, 0.040, width=0.06),
    TEPComponent("P180", 0.190, 8e-6, 0.045, 0.060, center="Cz", width=0.07),
)


@dataclass
class TMSTruth:
    """What :func:`simulate_tms_eeg` put into the recording.

    Attributes
    ----------
    pulse_samples : ndarray of int
        Sample index of every pulse (the first artifact sample).
    pulse_times : ndarray of float
        ``pulse_samples / sfreq`` (s).
    components : DataFrame
        One row per component x channel: ``component``, ``channel``, ``latency`` (s),
        ``amplitude`` (V, signed, after ``excitability_scale``), ``center`` (bool, the
        component's centre electrode).
    tep : ndarray
        Noise-free TEP ``(n_channels, n_times)`` on ``times``.
    times : ndarray
        Seconds relative to the pulse for ``tep`` and ``gmfp``.
    gmfp : ndarray
        Standard deviation across channels (ddof=0) of ``tep`` at each time.
    stim_channel : str
        The stimulated electrode.
    decay_amplitude, decay_tau : ndarray
        Per-channel decay artifact amplitude (V) and time constant (s).
    settings : dict
        The keyword values used.
    """

    pulse_samples: np.ndarray
    pulse_times: np.ndarray
    components: pd.DataFrame
    tep: np.ndarray
    times: np.ndarray
    gmfp: np.ndarray
    stim_channel: str
    decay_amplitude: np.ndarray
    decay_tau: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    def component_at(self, name: str, channel: str | None = None) -> tuple[float, float]:
        """Latency and amplitude of one simulated TEP component at one channel.

        Parameters
        ----------
        name : str
            Component name (e.g. ``"N100"``), as in :attr:`components`.
        channel : str, optional
            Channel name (default: the component's centre electrode).

        Returns
        -------
        latency : float
            Seconds after the pulse.
        amplitude : float
            Signed amplitude (V) at that channel.
        """
        rows = self.components[self.components["component"] == name]
        row = rows[rows["center"]] if channel is None else rows[rows["channel"] == channel]
        return float(row["latency"].iloc[0]), float(row["amplitude"].iloc[0])


def component_waveform(t: np.ndarray, comp: TEPComponent) -> np.ndarray:
    """Unit-peak waveform of a TEP component: a half raised cosine rising over
    ``comp.rise`` and another falling over ``comp.fall``.

    Parameters
    ----------
    t : ndarray
        Times (s after the pulse).
    comp : TEPComponent
        The component (its ``latency``, ``rise`` and ``fall``, in s).

    Returns
    -------
    ndarray
        Same shape as ``t``: exactly 1 at ``comp.latency``, 0 outside
        ``[latency - rise, latency + fall]``; multiply by the amplitude.
    """
    t = np.asarray(t, float)
    out = np.zeros_like(t)
    left = (t >= comp.latency - comp.rise) & (t <= comp.latency)
    right = (t > comp.latency) & (t <= comp.latency + comp.fall)
    out[left] = 0.5 * (1 + np.cos(np.pi * (t[left] - comp.latency) / comp.rise))
    out[right] = 0.5 * (1 + np.cos(np.pi * (t[right] - comp.latency) / comp.fall))
    return out


def _positions(names: Sequence[str]) -> np.ndarray:
    """3-D electrode positions (m) from MNE's built-in 10-05 template (no download)."""
    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            montage = mne.channels.make_standard_montage("colin27_1005")
        except ValueError:
            montage = mne.channels.make_standard_montage("standard_1005")
    pos = montage.get_positions()["ch_pos"]
    return np.array([pos[n] for n in names])


def _topography(pos: np.ndarray, names: list[str], center: str, width: float) -> np.ndarray:
    """Zero-mean Gaussian topography, +1 at ``center``."""
    d2 = np.sum((pos - pos[names.index(center)]) ** 2, axis=1)
    g = np.exp(-d2 / (2 * width**2))
    g = g - g.mean()
    return g / g[names.index(center)]


def _pink_noise(rng: np.random.Generator, n_ch: int, n_times: int, sfreq: float,
                exponent: float = 1.0) -> np.ndarray:
    """Unit-RMS 1/f^exponent noise per channel (flat below 1 Hz)."""
    spec = rng.standard_normal((n_ch, n_times // 2 + 1)) + 1j * rng.standard_normal(
        (n_ch, n_times // 2 + 1))
    f = np.fft.rfftfreq(n_times, 1 / sfreq)
    spec *= 1.0 / np.maximum(f, 1.0) ** (exponent / 2)
    spec[:, 0] = 0
    x = np.fft.irfft(spec, n=n_times, axis=1)
    return x / x.std(axis=1, keepdims=True)


def simulate_tms_eeg(
    n_channels: int = 32,
    n_trials: int = 100,
    sfreq: float = 5000.0,
    isi: tuple[float, float] = (2.0, 2.5),
    components: Sequence[TEPComponent] | None = None,
    stim_channel: str = "C3",
    pulse_artifact: bool = True,
    pulse_amplitude: float = 5e-3,
    decay_artifact: bool = True,
    decay_amplitude: float = 100e-6,
    decay_tau: float | tuple[float, float] = (0.010, 0.020),
    muscle: bool = False,
    oscillation: tuple[float, float] | None = None,
    noise: float = 2e-6,
    trigger_channel: bool = False,
    annotate: bool = False,
    line_freq: float | None = None,
    line_amplitude: float = 2e-6,
    excitability_scale: float = 1.0,
    meta: dict | None = None,
    seed: int | np.random.Generator | None = None,
) -> tuple[Recording, TMSTruth]:
    """Simulate a continuous TMS-EEG recording.

    Parameters
    ----------
    n_channels : int
        EEG channels, named from :data:`TMS_CHANNELS` (at most 64).
    n_trials : int
        Number of TMS pulses.
    sfreq : float
        Sampling rate in Hz.
    isi : (float, float)
        Inter-pulse interval drawn uniformly in this range (s).
    components : sequence of TEPComponent, optional
        Default :data:`DEFAULT_COMPONENTS`; an empty sequence simulates no TEP.
    stim_channel : str
        The electrode under the coil: centre of the pulse/decay artifacts and of components
        without their own centre.
    pulse_artifact : bool
        Add the ~1 ms biphasic pulse artifact (``pulse_amplitude`` V, per-channel gain 0.2-1
        with random sign, clipped at 0.8 x ``pulse_amplitude``).
    pulse_amplitude : float
        Peak of the pulse artifact (V, default 5 mV).
    decay_artifact : bool
        Add the exponential decay artifact, amplitude ``decay_amplitude`` (V) at the coil
        falling off with distance, time constant drawn per channel in ``decay_tau`` (s), and
        a +-10 % trial-to-trial amplitude jitter.
    decay_amplitude : float
        Decay-artifact amplitude at the coil (V, default 100 uV).
    decay_tau : float or (float, float)
        Decay time constant (s): one value for every channel, or a range each channel's is
        drawn from uniformly (default 10-20 ms).
    muscle : bool
        Add a TMS-evoked muscle burst (damped 70 Hz, 5-20 ms, ~50 uV near the coil).
    oscillation : (float, float) or None
        ``(frequency Hz, amplitude V)`` of a phase-locked evoked oscillation at the stimulated
        channel, damped with a 100 ms envelope (its natural frequency).
    noise : float
        RMS (V) of the spatially correlated 1/f background per channel.
    trigger_channel : bool
        Add a ``stim`` channel ``"TRIG"`` that is 1 for 1 ms from each pulse sample.
    annotate : bool
        Put the pulses in ``events`` as ``"tms_pulse"`` (otherwise they must be found).
    line_freq : float or None
        Add line noise at this frequency (``line_amplitude`` V).
    line_amplitude : float
        Peak amplitude of the line noise (V, default 2 uV), with a random phase per
        channel.
    excitability_scale : float
        Multiplies every component amplitude.
    meta : dict, optional
        Study metadata for the recording.
    seed : int or numpy.random.Generator, optional
        Random seed.

    Returns
    -------
    (Recording, TMSTruth)
    """
    rng = check_random_state(seed)
    if not 1 <= n_channels <= len(TMS_CHANNELS):
        raise KetephysError(f"n_channels must be 1..{len(TMS_CHANNELS)}, got {n_channels}")
    if n_trials < 1:
        raise KetephysError(f"n_trials must be >= 1, got {n_trials}")
    comps = tuple(DEFAULT_COMPONENTS if components is None else components)
    names = list(TMS_CHANNELS[:n_channels])
    if stim_channel not in names:
        stim_channel = names[0]
    pos = _positions(names)

    gaps = rng.uniform(isi[0], isi[1], n_trials)
    lead_in, tail = 1.0, 1.0
    pulse_times_f = lead_in + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    pulse_samples = np.round(pulse_times_f * sfreq).astype(int)
    n_times = int(pulse_samples[-1] + round((tail + isi[1]) * sfreq))
    # TEP template over one epoch
    n_ep = int(round(0.5 * sfreq))
    t_ep = np.arange(n_ep) / sfreq
    tep = np.zeros((n_channels, n_ep))
    comp_rows = []
    for comp in comps:
        center = comp.center if comp.center in names else stim_channel
        topo = _topography(pos, names, center, comp.width)
        amp = comp.amplitude * excitability_scale
        tep += amp * topo[:, None] * component_waveform(t_ep, comp)[None, :]
        for c, name in enumerate(names):
            comp_rows.append({"component": comp.name, "channel": name,
                              "latency": comp.latency, "amplitude": amp * topo[c],
                              "center": name == center})
    if oscillation is not None:
        freq, amp = oscillation
        topo = _topography(pos, names, stim_channel, 0.05)
        osc = amp * np.sin(2 * np.pi * freq * t_ep) * np.exp(-t_ep / 0.1) * (t_ep > 0)
        tep += topo[:, None] * osc[None, :]

    # background: 1/f noise mixed by a smooth spatial kernel (correlated like scalp EEG)
    data = np.zeros((n_channels, n_times))
    if noise > 0:
        src = _pink_noise(rng, n_channels, n_times, sfreq)
        d2 = np.sum((pos[:, None, :] - pos[None, :, :]) ** 2, axis=2)
        mix = np.exp(-d2 / (2 * 0.05**2))
        mixed = mix @ src
        data += noise * mixed / mixed.std(axis=1, keepdims=True)
    if line_freq:
        tt = np.arange(n_times) / sfreq
        phase = rng.uniform(0, 2 * np.pi, n_channels)
        data += line_amplitude * np.sin(2 * np.pi * line_freq * tt[None, :] + phase[:, None])

    near = np.exp(-np.sum((pos - pos[names.index(stim_channel)]) ** 2, axis=1)
                  / (2 * 0.06**2))
    gains = (0.2 + 0.8 * rng.uniform(0.5, 1.0, n_channels)) * rng.choice([-1, 1], n_channels)
    n_pulse = max(2, int(round(0.001 * sfreq)))
    pulse_shape = np.cos(np.pi * np.arange(n_pulse) / (n_pulse - 1))  # +1 -> -1 over 1 ms
    taus = np.atleast_1d(np.asarray(decay_tau, float))
    tau_c = rng.uniform(taus[0], taus[-1], n_channels) if taus.size > 1 else np.full(
        n_channels, taus[0])
    decay_c = decay_amplitude * (0.3 + 0.7 * near) * rng.choice([-1, 1], n_channels)
    n_dec = int(round(min(0.5, 10 * tau_c.max()) * sfreq))
    t_dec = np.arange(n_dec) / sfreq
    decay_wave = np.exp(-t_dec[None, :] / tau_c[:, None])
    if muscle:
        t_m = t_ep
        mus = np.sin(2 * np.pi * 70 * t_m) * np.exp(-t_m / 0.006) * (t_m < 0.025)
        mus_topo = 50e-6 * near
    for p in pulse_samples:
        stop = min(p + n_ep, n_times)
        data[:, p:stop] += tep[:, : stop - p]
        if muscle:
            data[:, p:stop] += (mus_topo[:, None] * mus[None, : stop - p]
                                * rng.uniform(0.8, 1.2))
        if decay_artifact:
            stop_d = min(p + n_dec, n_times)
            jitter = rng.uniform(0.9, 1.1, n_channels)
            data[:, p:stop_d] += (decay_c * jitter)[:, None] * decay_wave[:, : stop_d - p]
        if pulse_artifact:
            seg = pulse_amplitude * gains[:, None] * pulse_shape[None, :]
            data[:, p:p + n_pulse] += seg
            clip = 0.8 * pulse_amplitude
            np.clip(data[:, p:p + n_pulse], -clip, clip, out=data[:, p:p + n_pulse])

    ch_types = ["eeg"] * n_channels
    units = ["V"] * n_channels
    if trigger_channel:
        trig = np.zeros((1, n_times))
        for p in pulse_samples:
            trig[0, p:p + n_pulse] = 1.0
        data = np.vstack([data, trig])
        names = names + ["TRIG"]
        ch_types.append("stim")
        units.append("")
    events = None
    if annotate:
        events = pd.DataFrame({"onset": pulse_samples / sfreq, "duration": 0.0,
                               "description": "tms_pulse"})
    settings = {"n_channels": n_channels, "n_trials": n_trials, "sfreq": sfreq, "isi": isi,
                "stim_channel": stim_channel, "pulse_artifact": pulse_artifact,
                "decay_artifact": decay_artifact, "muscle": muscle, "noise": noise,
                "line_freq": line_freq, "excitability_scale": excitability_scale,
                "oscillation": oscillation}
    rec = Recording(data, sfreq, names, ch_types=ch_types, units=units, events=events,
                    meta=meta, source=Source(None, "simulated", "ketephys.simulate.tms"),
                    modality="tms-eeg")
    truth = TMSTruth(
        pulse_samples=pulse_samples, pulse_times=pulse_samples / sfreq,
        components=pd.DataFrame(comp_rows, columns=["component", "channel", "latency",
                                                    "amplitude", "center"]),
        tep=tep, times=t_ep, gmfp=tep.std(axis=0, ddof=0), stim_channel=stim_channel,
        decay_amplitude=decay_c, decay_tau=tau_c, settings=settings)
    return rec, truth
