"""Spectral analysis of EEG and LFP: PSD, band power (absolute, relative, dB,
aperiodic-corrected), the coherence family (MSC, coherency magnitude, imaginary
coherence, wPLI, PLV), time-resolved versions, and the one-pass batch summary.

Definitions follow :ref:`science-spectral`: PSD in V^2/Hz one-sided; band power is the sum of
PSD bins times df over the band (edges inclusive); MSC = ``|C|^2`` (scipy's convention).
Heavy libraries (scipy.signal, specparam) load inside the functions that need them.
"""

from .analyse import analyse, compute, features
from .aperiodic import AperiodicFit, fit_aperiodic, interpolate_line_noise
from .bandpower import band_power
from .bands import BANDS, resolve_band
from .coherence import CrossSpectrum, coherence, cross_spectrum
from .fft import SpectralSettings
from .preprocess import channel_flags, detect_line_noise, notch, rereference
from .psd import Spectrum, psd
from .timecourse import band_power_timecourse, coherence_timecourse, spectral_timecourse

__all__ = [
    "psd", "Spectrum", "SpectralSettings", "band_power", "coherence", "CrossSpectrum",
    "cross_spectrum",
    "features", "analyse", "compute", "band_power_timecourse", "coherence_timecourse",
    "spectral_timecourse", "fit_aperiodic", "AperiodicFit", "interpolate_line_noise",
    "detect_line_noise", "channel_flags", "notch", "rereference", "BANDS", "resolve_band",
]
