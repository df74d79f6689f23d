"""Does a recording fit the modality it is read as? Diagnostics for wrong modalities.

Rules (checked by :func:`ketephys.io.read` when ``modality`` is given, after channel types
are final):

- Every modality needs a channel of its signal types
  (:data:`ketephys.recording.SIGNAL_TYPES`, the channels its analysers use): ``eeg`` for
  eeg/tms-eeg, ``lfp`` for lfp, ``field`` for fepsp, ``vm``/``im`` for patch.
- ``eeg``, ``tms-eeg``, ``lfp``: continuous data (spectral analyses cut seconds-long
  segments).
- ``fepsp``, ``patch``: sweeps, or one continuous segment of at most
  :data:`MAX_SINGLE_SWEEP_S` (a one-sweep file: the synaptic analysers take it as one
  sweep); a longer continuous recording is continuous LFP/EEG data, not evoked responses.

A recording that breaks its rule raises :class:`~ketephys.errors.MetadataError` saying
what the file looks like and which modality would fit (:func:`likely_modality`:
:func:`ketephys.recording.infer_modality`, except that a continuous recording longer than
:data:`MAX_SINGLE_SWEEP_S` is never fEPSP/patch and sweeps of ``lfp`` channels are
fEPSP), e.g. ``"9 sweeps of 0.2 s with one
field channel: an fEPSP recording given as eeg?"``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import MetadataError
from ..recording import SIGNAL_TYPES, infer_modality

__all__ = ["check_modality", "describe", "likely_modality", "CONTINUOUS_MODALITIES",
           "MAX_SINGLE_SWEEP_S"]

#: longest continuous recording accepted as fepsp/patch (one sweep), in seconds
MAX_SINGLE_SWEEP_S = 60.0

#: modalities whose analyses need continuous data
CONTINUOUS_MODALITIES = ("eeg", "tms-eeg", "lfp")
_LABEL = {"eeg": "an EEG", "lfp": "an LFP", "fepsp": "an fEPSP", "patch": "a patch-clamp"}


def _channels(rec: Any) -> str:
    counts = Counter(rec.ch_types)
    parts = [f"{'one' if n == 1 else n} {t}" for t, n in counts.most_common()]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text + (" channel" if rec.n_channels == 1 else " channels")


def describe(rec: Any) -> str:
    """What a recording looks like, for messages.

    Parameters
    ----------
    rec : Recording
        Any recording.

    Returns
    -------
    str
        E.g. ``"9 sweeps of 0.2 s with one field channel"`` or ``"120 s of continuous data
        with 2 eeg channels (a: eeg, b: eeg)"`` (channels named when there are 2 to 8).
    """
    names = ""
    if 1 < rec.n_channels <= 8:
        names = " (" + ", ".join(f"{n}: {t}" for n, t in zip(rec.ch_names, rec.ch_types)) + ")"
    if rec.is_episodic:
        return f"{rec.n_sweeps} sweeps of {rec.duration:.3g} s with {_channels(rec)}{names}"
    return f"{rec.duration:.4g} s of continuous data with {_channels(rec)}{names}"


def likely_modality(rec: Any) -> str | None:
    """The modality a recording looks like, to suggest when the one asked for does not fit.

    Parameters
    ----------
    rec : Recording
        Any recording.

    Returns
    -------
    str or None
        :func:`~ketephys.recording.infer_modality`, except that episodic ``lfp`` data
        look like ``"fepsp"`` and one continuous sweep longer than
        :data:`MAX_SINGLE_SWEEP_S` looks like ``"lfp"`` (None when nothing fits).
    """
    types = set(rec.ch_types)
    guess = infer_modality(rec.ch_types, rec.is_episodic)
    if rec.is_episodic and guess is None and "lfp" in types:
        return "fepsp"
    if guess in {"fepsp", "patch"} and not rec.is_episodic and (
            rec.duration > MAX_SINGLE_SWEEP_S):
        return "lfp" if types & {"field", "vm", "lfp"} else None
    return guess


def check_modality(rec: Any, modality: str, path: Any) -> None:
    """Check that ``rec`` fits ``modality`` (see the module rules).

    Parameters
    ----------
    rec : Recording
        With its final channel types.
    modality : str
        A key of :data:`ketephys.recording.SIGNAL_TYPES`.
    path : path-like
        The file, named in the error.

    Raises
    ------
    MetadataError
        Saying what the recording looks like (:func:`describe`) and which modality would
        fit (:func:`likely_modality`).
    """
    needed = SIGNAL_TYPES[modality]
    continuous = modality in CONTINUOUS_MODALITIES
    problem = None
    if continuous and rec.is_episodic:
        problem = "continuous data"
    elif not continuous and not rec.is_episodic and rec.duration > MAX_SINGLE_SWEEP_S:
        problem = f"sweeps (or one sweep of at most {MAX_SINGLE_SWEEP_S:g} s)"
    elif not set(needed) & set(rec.ch_types):
        problem = f"a channel of type {' or '.join(needed)}"
    if problem is None:
        return
    guess = likely_modality(rec)
    hint = (f"{_LABEL[guess]} recording given as {modality}?" if guess not in {None, modality}
            else f"it does not look like {modality} data")
    raise MetadataError(f"{describe(rec)}: {hint} (modality {modality} needs {problem}; "
                        "fix the modality, or set ch_types=)", path)
