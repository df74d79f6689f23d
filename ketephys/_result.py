"""The small surface every ketephys result shares (like MNE's ``BaseSpectrum``/``Evoked``).

:class:`ResultMixin` gives a result ``copy()`` and a short ``__repr__`` built from
:meth:`ResultMixin._repr_parts` (what it is, sizes, units, settings; never an array).
:func:`finish_figure` is the one place that handles ``show=`` for every ``plot()``;
:class:`RecordingInfo` is the compact stand-in a result keeps instead of a whole
:class:`~ketephys.Recording` (its metadata and source, not its samples), so results stay
small when the batch pickles them.
"""

from __future__ import annotations

import copy as _copy
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ResultMixin", "RecordingInfo", "compact_recording", "finish_figure",
           "REPR_MAX"]

_NON_GUI = ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template")

#: Longest ``repr`` of a result (characters).
REPR_MAX = 480


@dataclass
class RecordingInfo:
    """What a result keeps of the recording it came from: metadata, never samples.

    Attributes
    ----------
    meta : StudyMeta
        Study metadata (subject, session, region, dose, hours since dose...).
    source : Source
        The file read.
    sfreq : float
        Sampling rate (Hz).
    ch_names, ch_types, units : list of str
        Channels of the recording.
    modality : str or None
        ``"eeg"``, ``"fepsp"``...
    """

    meta: Any
    source: Any
    sfreq: float
    ch_names: list[str] = field(default_factory=list)
    ch_types: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    modality: str | None = None

    def __repr__(self) -> str:
        where = os.path.basename(self.source.path) if self.source.path else "memory"
        return (f"<RecordingInfo {where} | {len(self.ch_names)} ch @ {self.sfreq:g} Hz | "
                f"subject={self.meta.subject!r}>")


def compact_recording(rec: Any) -> Any:
    """A :class:`RecordingInfo` for a recording (anything else is returned as it is)."""
    if rec is None or isinstance(rec, RecordingInfo) or not hasattr(rec, "get_data"):
        return rec
    return RecordingInfo(rec.meta, rec.source, float(rec.sfreq), list(rec.ch_names),
                         list(rec.ch_types), list(rec.units), getattr(rec, "modality", None))


def short(value: Any, limit: int = 60) -> str:
    """A value for a repr: sequences by their length, long text cut."""
    if isinstance(value, (list, tuple)) and len(value) > 4:
        value = f"[{len(value)} items]"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ResultMixin:
    """``copy()`` and a short ``__repr__`` for a result class.

    A subclass implements :meth:`_repr_parts`, a list of short strings; the repr is
    ``<ClassName | part | part ...>``, cut to :data:`REPR_MAX` characters.
    """

    def _repr_parts(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def __repr__(self) -> str:
        text = f"<{type(self).__name__} | " + " | ".join(self._repr_parts()) + ">"
        return text if len(text) <= REPR_MAX else text[: REPR_MAX - 4] + "...>"

    def copy(self) -> Any:
        """An independent (deep) copy: changing it leaves this result unchanged.

        Returns
        -------
        object
            Of the same class.
        """
        return _copy.deepcopy(self)


def finish_figure(fig: Any, show: bool | None = None) -> Any:
    """Lay out ``fig`` and show it when asked (as MNE's ``show=``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    show : bool or None
        ``None`` (default) shows the figure only when matplotlib is interactive
        (``plt.ion()``, IPython with a GUI backend); ``True`` always asks the backend to
        show it (a no-op on Agg); ``False`` never.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout()
    except (ValueError, RuntimeError):  # a layout that cannot be tightened is still drawn
        pass
    if show is None:
        show = matplotlib.is_interactive()
    backend = matplotlib.get_backend().lower()
    if show and backend not in _NON_GUI:
        plt.show(block=False)
    return fig


def channel_indices(ch_names: list[str], picks: Any = None) -> list[int]:
    """Indices of ``picks`` (names or indices; None = all) in ``ch_names``.

    Raises
    ------
    AnalysisError
        For a name that is not a channel (the message lists the channels).
    """
    from .errors import AnalysisError

    if picks is None:
        return list(range(len(ch_names)))
    if isinstance(picks, (str, int)):
        picks = [picks]
    out = []
    for p in picks:
        if isinstance(p, str):
            if p not in ch_names:
                raise AnalysisError(f"no channel {p!r}; channels are {short(ch_names, 200)}")
            out.append(ch_names.index(p))
        else:
            out.append(int(p))
    return out
