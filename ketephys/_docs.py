"""Shared parameter descriptions (MNE's ``docdict``/``fill_doc`` pattern).

A parameter that several public functions take with the same meaning is described once,
in :data:`docdict`; a docstring names it with a placeholder line ``%(name)s`` and the
function is decorated with :func:`fill_doc`, which puts the description there (indented
like the placeholder) when the module is imported. So a change to, say, what ``overlap``
means is written in one place, and every function taking it says the same.

A placeholder that is not a key of :data:`docdict`, or that shares its line with other
text, raises ``KeyError`` / ``ValueError`` at import: a typo never reaches a user as a
literal ``%(...)s``.

Each entry is a complete numpydoc item (``name : type`` then the description indented by
four spaces), or a complete section (``returns_figure``).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

__all__ = ["docdict", "fill_doc"]

T = TypeVar("T")

#: Parameter name (or a short key) -> its numpydoc entry.
docdict: dict[str, str] = {}

# ---------------------------------------------------------------- spectral estimation
docdict["method"] = """\
method : {"welch", "multitaper"}
    ``"welch"``: one window per segment (``window``). ``"multitaper"``: DPSS tapers per
    segment, weighted by their eigenvalues (non-adaptive), as MNE."""
docdict["seg_len"] = """\
seg_len : float or None
    Segment length in seconds (default 2 s); ``None`` = one segment over the whole
    recording (or over the analysed time span), as ``mne.time_frequency.psd_array_multitaper`` (this loads
    the whole span)."""
docdict["overlap"] = """\
overlap : float
    Fraction of overlap between consecutive segments (0 <= overlap < 1)."""
docdict["window"] = """\
window : str, tuple or array
    Welch taper, anything ``scipy.signal.get_window`` takes (periodic), or an array of
    ``seg_len * sfreq`` samples (e.g. ``numpy.hanning(n)`` as mne-connectivity's
    ``fourier`` mode). Ignored by ``method="multitaper"``."""
docdict["bandwidth"] = """\
bandwidth : float, optional
    Multitaper full bandwidth in Hz (MNE's ``bandwidth``); default a normalised
    half-bandwidth of 4."""
docdict["low_bias"] = """\
low_bias : bool
    Keep only tapers with eigenvalue > 0.9 (MNE's default)."""
docdict["precision"] = """\
precision : {"float64", "float32"}
    Arithmetic of the FFTs; accumulation is always float64/complex128."""
docdict["reject"] = """\
reject : float, optional
    Drop segments whose peak-to-peak amplitude (V) on any picked channel exceeds this."""
docdict["reject_by_annotation"] = """\
reject_by_annotation : bool
    Drop segments overlapping events whose description starts with ``BAD`` (any case)."""
#: The nine estimation settings of :class:`~ketephys.spectral.fft.SpectralSettings`, in
#: its order (functions that take them all, such as :func:`~ketephys.spectral.psd`).
docdict["spectral_settings"] = "\n".join(docdict[k] for k in (
    "method", "seg_len", "overlap", "window", "bandwidth", "low_bias", "precision",
    "reject", "reject_by_annotation"))
docdict["picks"] = """\
picks : str, int, list or None
    Channels analysed (names, indices or channel types); default the modality's signal
    channels (:meth:`~ketephys.Recording.default_picks`: EEG channels of an EEG
    recording, LFP channels of an LFP recording; never stim/misc/EOG/ECG/EMG)."""

# ---------------------------------------------------------------- spectral markers
docdict["bands"] = """\
bands : sequence of str or (lo, hi)
    Band-power bands: names of :data:`~ketephys.spectral.bands.BAND_TABLE` (resolved
    for the recording's modality) or edges in Hz (inclusive)."""
docdict["kinds"] = """\
kinds : sequence of {"absolute", "relative", "db"}
    Band-power kinds: V^2; fraction of the power in ``total_band``; dB against a
    baseline recording."""
docdict["aperiodic"] = """\
aperiodic : {None, "fixed", "knee", "auto"}
    Also report the band power with specparam's aperiodic fit subtracted (``"auto"``
    keeps the knee model only when a knee is found, see
    :func:`~ketephys.spectral.aperiodic.fit_aperiodic`); None skips it."""
docdict["line_freq"] = """\
line_freq : float, "auto" or None
    Line noise to interpolate before the aperiodic fit (``"auto"`` detects 50/60 Hz).
    Uncorrected band powers keep the line's power and get the flag
    ``line_noise_in_band`` when a line (or harmonic) falls inside the band."""
docdict["total_band"] = """\
total_band : (lo, hi), optional
    Denominator of relative power in Hz (default 1 Hz to ``min(100, fmax)``)."""
docdict["fit_range"] = """\
fit_range : (lo, hi), optional
    Aperiodic fit range (Hz); default 1 Hz to ``min(150, 0.8 Nyquist)`` whatever range
    the spectrum was computed over, so a PSD, a cross-spectrum and the batch agree."""
docdict["coherence_band"] = """\
coherence_band : str, (lo, hi) or None
    Band of the coherence measures (name resolved for the modality, or Hz); None skips
    coherence."""
docdict["pairs"] = """\
pairs : "all", list of (a, b) or {region: [channels]}
    Channel pairs of the coherence measures: every unordered pair, those pairs, or every
    pair between two regions (see :func:`~ketephys.spectral.coherence.resolve_pairs`)."""
docdict["measures"] = """\
measures : sequence of {"msc", "coh", "imcoh", "wpli", "plv"}
    Coherence measures (see :mod:`ketephys.spectral.coherence`)."""
docdict["baseline_recording"] = """\
baseline_recording : Recording, optional
    Baseline recording for ``kinds=["db"]``, analysed with the same settings (channels
    matched by name)."""
docdict["analysis_settings"] = """\
settings : SpectralAnalysis or dict, optional
    The settings (see :class:`~ketephys.spectral.settings.SpectralAnalysis` for every
    name and default); ``**kwargs`` override them. Unknown names raise
    :class:`~ketephys.errors.SettingsError` with a suggestion. The main ones:
    ``bands`` (default gamma 30-80 Hz), ``kinds`` (absolute: ``gamma_power`` in V^2,
    relative: fraction of 1-100 Hz, db: against ``baseline_recording``), ``aperiodic``
    (specparam mode for ``gamma_power_aperiodic_corrected``; default ``"fixed"``),
    ``coherence_band`` (default theta, resolved per modality), ``measure`` (``"msc"``
    and others), ``method``/``seg_len``/``overlap`` (Welch, 2 s Hann, 50 %)."""
#: The parameters :func:`~ketephys.spectral.analyse`, ``features`` and ``compute`` share
#: after the recording.
docdict["analysis_parameters"] = "\n".join([
    docdict["analysis_settings"], docdict["baseline_recording"],
    "**kwargs\n    Individual settings (names of ``SpectralAnalysis``)."])
docdict["window_s"] = """\
window_s : float
    Length of each analysis window (s); only complete windows are analysed."""
docdict["step_s"] = """\
step_s : float, optional
    Time between the starts of consecutive windows (s); default ``window_s`` (windows
    side by side)."""

# ---------------------------------------------------------------- TMS-EEG
docdict["tms_rec"] = """\
rec : Recording or CleanResult
    Cleaned continuous EEG with ``tms_pulse`` events (a
    :class:`~ketephys.tms.CleanResult` is taken for its recording)."""
docdict["epoch_limits"] = """\
tmin, tmax : float
    Epoch limits (s relative to each pulse)."""
docdict["epoch_baseline"] = """\
baseline : (float, float) or None
    Baseline window (tmin, tmax in s relative to each pulse, both ends included)
    subtracted from every epoch; None subtracts nothing."""
docdict["epoch_reject"] = """\
reject : float or None
    Peak-to-peak rejection threshold (V) on any channel; None keeps every epoch."""
docdict["roi_data"] = """\
data : ndarray, shape (..., n_channels, n_times)
    Evoked data (V).
ch_names : sequence of str
    Names of the channels of ``data``.
roi : sequence of str
    The region-of-interest channels."""
docdict["tms_analysis_parameters"] = """\
settings : TMSAnalysis or dict, optional
    See :class:`~ketephys.tms.settings.TMSAnalysis`: ``clean_options`` (keywords of
    :func:`ketephys.tms.clean`), ``tep_options`` (of :func:`ketephys.tms.tep`),
    ``find_options`` (of :func:`ketephys.tms.find_tms_pulses`), ``peak_channels``,
    ``roi``. ``**kwargs`` override them; unknown names (at any level) raise
    :class:`~ketephys.errors.SettingsError` with a suggestion.
**kwargs
    Individual settings."""

# ---------------------------------------------------------------- synaptic
docdict["stim_times"] = """\
stim_times : sequence of float, optional
    Stimulus times (s from the sweep start) used in every sweep; default: rising edges
    of the first ``stim`` channel, else ``stimulus`` events, else the artifacts found
    in the trace."""
docdict["polarity"] = """\
polarity : {"auto", "negative", "positive"} or {-1, 1}
    Direction of the response; ``"auto"`` takes, per channel, the sign of the first
    deflection of the mean sweep beyond half its largest deflection."""
docdict["k_response"] = """\
k_response : float
    ``no_response`` when the amplitude is below this many baseline noise SDs."""
docdict["synaptic_analysis_parameters"] = """\
settings : dict or settings model, optional
    ``kind`` (``"auto"``: by the first channel that is ``field``/``lfp`` ->
    ``"fepsp"``, ``im``/``vm`` -> ``"psc"``) and the keywords of
    :func:`~ketephys.synaptic.fepsp` and :func:`~ketephys.synaptic.ltp`
    (``induction="auto"`` by default; ``None`` skips LTP) or of
    :func:`~ketephys.synaptic.psc` (see
    :func:`~ketephys.synaptic.settings.synaptic_settings_model`). ``**kwargs``
    override them; an unknown name raises :class:`~ketephys.errors.SettingsError`
    with a suggestion.
**kwargs
    Individual settings."""
docdict["response_window"] = """\
response_window : float
    The longest response window (s after the stimulus; it ends earlier at the next
    stimulus)."""

# ---------------------------------------------------------------- plots
docdict["show"] = """\
show : bool or None
    Show the figure (default: only when matplotlib is interactive; a no-op on
    non-GUI backends such as Agg)."""
docdict["returns_figure"] = """\
Returns
-------
matplotlib.figure.Figure"""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _fill(doc: str, where: str) -> str:
    """``doc`` with every placeholder line replaced by its :data:`docdict` entry."""
    lines = []
    for line in doc.split("\n"):
        found = _PLACEHOLDER.search(line)
        if found is None:
            lines.append(line)
            continue
        key = found.group(1)
        if line.strip() != found.group(0):
            raise ValueError(f"{where}: the placeholder %({key})s must stand alone on "
                             "its line")
        if key not in docdict:
            raise KeyError(f"{where}: %({key})s is not a key of ketephys._docs.docdict")
        pad = line[: len(line) - len(line.lstrip())]
        lines.extend(pad + part if part else part for part in docdict[key].split("\n"))
    return "\n".join(lines)


def _fill_one(obj: Any) -> None:
    doc = getattr(obj, "__doc__", None)
    if doc and "%(" in doc:
        obj.__doc__ = _fill(doc, getattr(obj, "__qualname__", repr(obj)))


def fill_doc(obj: T) -> T:
    """Fill the ``%(name)s`` placeholder lines of a docstring from :data:`docdict`.

    Parameters
    ----------
    obj : function or class
        A function, or a class (its docstring and those of its methods and properties
        are filled).

    Returns
    -------
    function or class
        ``obj`` itself, its docstrings filled.

    Raises
    ------
    KeyError
        A placeholder names no entry of :data:`docdict`.
    ValueError
        A placeholder shares its line with other text.
    """
    _fill_one(obj)
    if isinstance(obj, type):
        for value in vars(obj).values():
            target = getattr(value, "fget", None) or getattr(value, "__func__", value)
            if callable(target):
                _fill_one(target)
    return obj
