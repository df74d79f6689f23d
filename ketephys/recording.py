"""The :class:`Recording`: one container for every modality ketephys reads.

A recording is continuous, ``data`` of shape ``(n_channels, n_times)``, or episodic,
``(n_sweeps, n_channels, n_times)``, always in SI units (V, A). Sweep start times come from
the file and keep real gaps. Events (annotations, stimuli, TMS pulses) are a DataFrame.
Study metadata (:class:`~ketephys.meta.StudyMeta`) rides along into every output row.

The data may be held lazily (a memory map or a reader that loads slices on demand):
:meth:`Recording.get_data` and :meth:`Recording.iter_chunks` read only what is asked for;
:attr:`Recording.data` loads everything once and keeps it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._check import suggest
from .errors import AnalysisError, KetephysError, MetadataError
from .meta import StudyMeta
from .units import SI_UNITS, si_scale

__all__ = ["Recording", "Source", "CH_TYPES", "EVENT_COLUMNS", "MODALITIES", "SIGNAL_TYPES",
           "infer_modality"]

#: Channel types a recording may declare.
CH_TYPES = ("eeg", "eog", "emg", "ecg", "lfp", "field", "vm", "im", "stim", "misc")
#: Columns of :attr:`Recording.events`; ``sweep`` is <NA> for continuous recordings.
EVENT_COLUMNS = ("onset", "duration", "description", "sweep")

_DEFAULT_UNIT = {
    "eeg": "V", "eog": "V", "emg": "V", "ecg": "V", "lfp": "V", "field": "V",
    "vm": "V", "im": "A", "stim": "", "misc": "",
}
# ketephys type -> MNE type, and back for files that MNE made
_TO_MNE_TYPE = {
    "eeg": "eeg", "eog": "eog", "emg": "emg", "ecg": "ecg", "lfp": "seeg",
    "field": "misc", "vm": "misc", "im": "misc", "stim": "stim", "misc": "misc",
}
_FROM_MNE_TYPE = {
    "eeg": "eeg", "eog": "eog", "emg": "emg", "ecg": "ecg", "seeg": "lfp", "ecog": "lfp",
    "dbs": "lfp", "stim": "stim",
}
_MNE_MARKER = "ketephys-recording:"


@dataclass(frozen=True)
class Source:
    """Where a recording came from.

    Attributes
    ----------
    path : str or None
        The file read (``None`` for data built in memory).
    format : str
        File format, e.g. ``"edf"``, ``"abf"``, ``"axona"``, ``"array"``.
    reader : str
        The reader used, e.g. ``"mne.io.read_raw_edf"``, ``"neo.io.AxonIO"``.
    files : tuple of str
        Every file the reader opened (the main file first: ``.set`` + ``.fdt``,
        ``.vhdr`` + ``.vmrk`` + data, Axona ``.set`` + ``.eeg*``, JSON sidecars...). Empty
        for data built in memory. The batch cache hashes all of them.
    """

    path: str | None = None
    format: str = "array"
    reader: str = "ketephys.Recording.from_array"
    files: tuple[str, ...] = ()


class _MNESlicer:
    """Lazy ``(n_channels, n_times)`` view of an MNE Raw that was not preloaded."""

    def __init__(self, raw: Any):
        self._raw = raw
        self.shape = (len(raw.ch_names), raw.n_times)
        self.dtype = np.dtype(np.float64)
        self.ndim = 2

    def read(self, picks: np.ndarray, start: int, stop: int) -> np.ndarray:
        return self._raw.get_data(picks=picks, start=start, stop=stop)

    def __array__(self, dtype=None, copy=None):
        # load in place (MNE's preload path, no second copy); the array is shared
        self._raw.load_data(verbose="error")
        data = self._raw._data
        return data if dtype is None else data.astype(dtype, copy=False)


def _as_event_frame(events: Any, path: str | None) -> pd.DataFrame:
    if events is None:
        frame = pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    elif isinstance(events, pd.DataFrame):
        frame = events.copy()
    else:
        frame = pd.DataFrame(events)
    if len(frame) and "onset" not in frame:
        raise MetadataError("events need an 'onset' column (seconds)", path)
    for col, default in (("duration", 0.0), ("description", ""), ("sweep", pd.NA)):
        if col not in frame:
            frame[col] = default
    frame["onset"] = frame["onset"].astype(float)
    frame["duration"] = frame["duration"].astype(float)
    frame["description"] = frame["description"].astype(str)
    frame["sweep"] = frame["sweep"].astype("Int64")
    cols = list(EVENT_COLUMNS) + [c for c in frame.columns if c not in EVENT_COLUMNS]
    return frame[cols].reset_index(drop=True)


#: Modalities a recording may have.
MODALITIES = ("eeg", "tms-eeg", "lfp", "fepsp", "patch")
#: Channel types an analysis uses by default, per modality (:meth:`Recording.default_picks`).
SIGNAL_TYPES = {
    "eeg": ("eeg",), "tms-eeg": ("eeg",), "lfp": ("lfp",), "fepsp": ("field",),
    "patch": ("vm", "im"),
}


def infer_modality(ch_types: Sequence[str], episodic: bool) -> str | None:
    """The modality of a recording that was not told its modality.

    The rule, in order: episodic data with a ``field`` channel is ``"fepsp"``, with an
    ``im``/``vm`` channel ``"patch"``; continuous data with an ``lfp`` channel is
    ``"lfp"``, with an ``eeg`` channel ``"eeg"`` (TMS-EEG is never inferred: it is the
    reader's ``modality="tms-eeg"``); otherwise ``None`` (unknown).
    """
    types = set(ch_types)
    if episodic:
        if "field" in types:
            return "fepsp"
        if types & {"im", "vm"}:
            return "patch"
        return None
    if "lfp" in types:
        return "lfp"
    if "eeg" in types:
        return "eeg"
    if "field" in types:
        return "fepsp"
    if types & {"im", "vm"}:
        return "patch"
    return None


def _type_for(modality: str | None, unit: str) -> str:
    """The channel type :meth:`Recording.from_array` gives an untyped channel."""
    if modality in ("eeg", "tms-eeg") and unit == "V":
        return "eeg"
    if modality == "lfp" and unit == "V":
        return "lfp"
    if modality == "fepsp" and unit == "V":
        return "field"
    if modality == "patch":
        return "im" if unit == "A" else "vm" if unit == "V" else "misc"
    return "misc"


class _Labels(list):
    """A list of per-channel labels that cannot be changed item by item."""

    def __init__(self, items: Sequence[str], name: str, setter: str):
        super().__init__(items)
        self._what = (name, setter)

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        name, setter = self._what
        raise MetadataError(f"Recording.{name} cannot be changed in place; use "
                            f"Recording.{setter}({{name: value}}) or assign a whole list")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):
        return (list, (list(self),))


class Recording:
    """Electrophysiological data in SI units with its events and study metadata.

    Parameters
    ----------
    data : array-like
        ``(n_channels, n_times)`` (continuous) or ``(n_sweeps, n_channels, n_times)``
        (episodic), already in SI units. A numpy memmap or a lazy reader object with
        ``shape`` and ``read(picks, start, stop)`` is kept as it is, not loaded.
    sfreq : float
        Sampling rate in Hz (> 0).
    ch_names : sequence of str
        Unique channel names.
    ch_types : sequence of str, optional
        One of :data:`CH_TYPES` per channel; ``"misc"`` when omitted.
    units : str or sequence of str
        SI unit per channel (``"V"``, ``"A"``, ``""``...). Use :meth:`from_array` to give
        data in other units (mV, pA...) and have them converted.
    sweep_starts : array-like, optional
        Start time of each sweep in seconds, strictly increasing (episodic only;
        default ``i * n_times / sfreq``).
    events : DataFrame or dict, optional
        ``onset`` (s, from the start of the recording, or of the sweep when ``sweep`` is
        set), ``duration`` (s), ``description``, ``sweep``.
    meta : StudyMeta or dict, optional
        Study metadata.
    source : Source, optional
        Where the data came from.
    modality : str, optional
        One of :data:`MODALITIES`; inferred from the channel types when omitted
        (:func:`infer_modality`).
    """

    def __init__(
        self,
        data: Any,
        sfreq: float,
        ch_names: Sequence[str],
        ch_types: Sequence[str] | None = None,
        units: str | Sequence[str] = "V",
        sweep_starts: Sequence[float] | np.ndarray | None = None,
        events: pd.DataFrame | dict | None = None,
        meta: StudyMeta | dict | None = None,
        source: Source | None = None,
        modality: str | None = None,
    ):
        self.source = source if source is not None else Source()
        path = self.source.path
        if not hasattr(data, "shape") or not hasattr(data, "ndim"):
            data = np.asarray(data, dtype=float)
        if data.ndim not in (2, 3):
            raise KetephysError(
                f"data must be (n_channels, n_times) or (n_sweeps, n_channels, n_times), "
                f"got shape {tuple(data.shape)}",
                path,
            )
        self._data = data
        try:
            sfreq = float(sfreq)
        except (TypeError, ValueError):
            raise MetadataError(f"sampling rate must be a number, got {sfreq!r}", path) from None
        if not math.isfinite(sfreq) or sfreq <= 0:
            raise MetadataError(f"sampling rate must be a positive number of Hz, got {sfreq}", path)
        self.sfreq = sfreq
        n_ch = data.shape[-2]
        self.ch_names = [str(c) for c in ch_names]
        if len(self.ch_names) != n_ch:
            raise MetadataError(f"{len(self.ch_names)} channel names for {n_ch} channels", path)
        if len(set(self.ch_names)) != n_ch:
            dup = sorted({c for c in self.ch_names if self.ch_names.count(c) > 1})
            raise MetadataError(f"channel names must be unique, repeated: {dup}", path)
        self.ch_types = ["misc"] * n_ch if ch_types is None else ch_types
        self.units = units
        if data.ndim == 3:
            n_sw = data.shape[0]
            if sweep_starts is None:
                starts = np.arange(n_sw) * (data.shape[2] / sfreq)
            else:
                starts = np.asarray(sweep_starts, dtype=float).ravel()
            if starts.shape != (n_sw,):
                raise MetadataError(f"{starts.size} sweep start times for {n_sw} sweeps", path)
            if not np.all(np.isfinite(starts)):
                raise MetadataError("sweep start times must be finite", path)
            if n_sw > 1 and not np.all(np.diff(starts) > 0):
                i = int(np.argmin(np.diff(starts)))
                raise MetadataError(
                    f"sweep start times must increase; sweep {i + 1} starts at "
                    f"{starts[i + 1]:.6g} s, not after sweep {i} at {starts[i]:.6g} s", path)
            self.sweep_starts = starts
        else:
            if sweep_starts is not None:
                raise MetadataError("sweep_starts given for continuous data", path)
            self.sweep_starts = None
        self.events = _as_event_frame(events, path)
        if isinstance(meta, StudyMeta):
            self.meta = meta
        else:
            self.meta = StudyMeta.from_sources([("keyword", meta)], path=path)
        self.modality = modality
        #: Channel -> quality flags the reader attached (``unit_assumed``,
        #: ``discontinuous``, ``aux_dc``... see :mod:`ketephys.io.flags`); every feature
        #: row of a flagged channel carries them in ``qc_flags``.
        self.reader_flags: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ validated labels
    @property
    def ch_types(self) -> list[str]:
        """Channel type per channel (one of :data:`CH_TYPES`); read-only list.

        Assigning a whole list validates it; change single channels with
        :meth:`set_channel_types`.
        """
        return self._ch_types

    @ch_types.setter
    def ch_types(self, types: Sequence[str]) -> None:
        path = self.source.path
        if isinstance(types, str):
            raise MetadataError(f"channel types must be a list, one per channel, got the "
                                f"string {types!r}; use set_channel_types", path)
        types = [str(t).lower() for t in types]
        if len(types) != self.n_channels:
            raise MetadataError(f"{len(types)} channel types for {self.n_channels} channels",
                                path)
        bad = sorted(set(types) - set(CH_TYPES))
        if bad:
            raise MetadataError(f"unknown channel types {bad}; expected one of {CH_TYPES}",
                                path)
        self._ch_types = _Labels(types, "ch_types", "set_channel_types")

    @property
    def units(self) -> list[str]:
        """SI unit per channel (one of :data:`~ketephys.units.SI_UNITS`); read-only list.

        Assigning a whole list (or one string for every channel) validates it; change
        single channels with :meth:`set_units`.
        """
        return self._units

    @units.setter
    def units(self, units: str | Sequence[str]) -> None:
        path = self.source.path
        unit_list = [units] * self.n_channels if isinstance(units, str) else [
            str(u) for u in units]
        if len(unit_list) != self.n_channels:
            raise MetadataError(f"{len(unit_list)} units for {self.n_channels} channels", path)
        for u in unit_list:
            if u not in SI_UNITS:
                raise MetadataError(
                    f"unit {u!r} is not an SI base unit {SI_UNITS}; "
                    "use Recording.from_array to convert", path)
        self._units = _Labels(unit_list, "units", "set_units")

    def set_channel_types(self, mapping: dict[str, str]) -> Recording:
        """Change the type of some channels, in place (as MNE's ``set_channel_types``).

        Parameters
        ----------
        mapping : dict
            Channel name -> one of :data:`CH_TYPES`.

        Returns
        -------
        Recording
            This recording (for chaining).
        """
        self._check_names(mapping, "set_channel_types")
        self.ch_types = [mapping.get(n, t) for n, t in zip(self.ch_names, self.ch_types)]
        return self

    def set_units(self, mapping: dict[str, str]) -> Recording:
        """Relabel the SI unit of some channels, in place (values are not scaled).

        Parameters
        ----------
        mapping : dict
            Channel name -> one of :data:`~ketephys.units.SI_UNITS`. To convert values
            given in mV, pA..., build the recording with :meth:`from_array`.

        Returns
        -------
        Recording
            This recording (for chaining).
        """
        self._check_names(mapping, "set_units")
        self.units = [mapping.get(n, u) for n, u in zip(self.ch_names, self.units)]
        return self

    def _check_names(self, mapping: Any, what: str) -> None:
        if not isinstance(mapping, dict):
            raise MetadataError(f"{what} takes a dict channel name -> value, got "
                                f"{type(mapping).__name__}", self.source.path)
        unknown = [n for n in mapping if n not in self.ch_names]
        if unknown:
            raise MetadataError(f"{what}: no channel {unknown}; channels are {self.ch_names}",
                                self.source.path)

    @property
    def modality(self) -> str | None:
        """What the recording is: ``"eeg"``, ``"tms-eeg"``, ``"lfp"``, ``"fepsp"`` or
        ``"patch"`` (see :data:`MODALITIES`).

        Set by every reader (the ``modality=`` given to :func:`ketephys.read`), or
        inferred from the channel types when not given (:func:`infer_modality`).
        """
        if self._modality is None:
            return infer_modality(self.ch_types, self.is_episodic)
        return self._modality

    @modality.setter
    def modality(self, value: str | None) -> None:
        if value is not None and value not in MODALITIES:
            hint = suggest(value, MODALITIES)
            raise MetadataError(f"unknown modality {value!r}; use one of {MODALITIES}{hint}",
                                self.source.path)
        self._modality = value

    def default_picks(self) -> list[int]:
        """The channels an analysis uses unless told otherwise: the modality's signal
        channels (:data:`SIGNAL_TYPES`).

        EEG and TMS-EEG analyse ``eeg`` channels, LFP ``lfp``, fEPSP ``field``, patch
        ``vm``/``im``. Stim, misc, EOG, ECG and EMG channels are never analysed unless
        picked by name or type. The same rule serves scripts, the batch and the report.
        Only a recording of unknown modality whose channels are all untyped (``misc``,
        as :meth:`from_array` makes without ``ch_types``) analyses all of them.

        Raises
        ------
        AnalysisError
            When the recording has no channel of the modality's types.
        """
        wanted = SIGNAL_TYPES.get(self.modality or "", ("eeg", "lfp", "field", "vm", "im"))
        picks = [i for i, t in enumerate(self.ch_types) if t in wanted]
        if not picks and self.modality is None and set(self.ch_types) == {"misc"}:
            picks = list(range(self.n_channels))
        if not picks:
            kinds = ", ".join(f"{n} ({t})" for n, t in zip(self.ch_names, self.ch_types))
            raise AnalysisError(
                f"no {'/'.join(wanted)} channel to analyse in this {self.modality or ''} "
                f"recording; channels are {kinds}. Pick channels by name (picks=...) or "
                "retype them (set_channel_types)", self.source.path)
        return picks

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_array(
        cls,
        data: Any,
        sfreq: float,
        ch_names: Sequence[str] | None = None,
        units: str | Sequence[str] = "V",
        ch_types: Sequence[str] | None = None,
        sweep_starts: Sequence[float] | None = None,
        events: pd.DataFrame | dict | None = None,
        meta: StudyMeta | dict | None = None,
        source: Source | None = None,
        modality: str | None = None,
    ) -> Recording:
        """Build a recording from an array, converting ``units`` to SI.

        Parameters
        ----------
        data : array-like
            ``(n_channels, n_times)`` or ``(n_sweeps, n_channels, n_times)``; a 1-D array is
            one channel.
        sfreq : float
            Sampling rate in Hz.
        ch_names : sequence of str, optional
            Default ``ch0, ch1, ...``.
        units : str or sequence of str
            Unit of the values as given (``"V"``, ``"mV"``, ``"uV"``, ``"pA"``...), one for
            all channels or one per channel. Values are scaled to SI.
        ch_types, sweep_starts, events, meta, source, modality
            As in :class:`Recording`.

        Returns
        -------
        Recording
        """
        path = None if source is None else source.path
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        if not np.issubdtype(arr.dtype, np.number):
            raise MetadataError(f"data must be numeric, got dtype {arr.dtype}", path)
        n_ch = arr.shape[-2]
        names = [f"ch{i}" for i in range(n_ch)] if ch_names is None else list(ch_names)
        unit_in = [units] * n_ch if isinstance(units, str) else list(units)
        if len(unit_in) != n_ch:
            raise MetadataError(f"{len(unit_in)} units for {n_ch} channels", path)
        conv = [si_scale(u, path) for u in unit_in]
        factors = np.array([f for _, f in conv])
        if np.all(factors == 1.0):
            out = arr.astype(float, copy=False)
        else:
            out = arr * factors[:, np.newaxis]
        if ch_types is None:
            ch_types = [_type_for(modality, base) for base, _ in conv]
        return cls(out, sfreq, names, ch_types=ch_types, units=[b for b, _ in conv],
                   sweep_starts=sweep_starts, events=events, meta=meta, source=source,
                   modality=modality)

    # ------------------------------------------------------------------ shape and access
    @property
    def is_episodic(self) -> bool:
        """True when the data are sweeps ``(n_sweeps, n_channels, n_times)``."""
        return self._data.ndim == 3

    @property
    def n_channels(self) -> int:
        return int(self._data.shape[-2])

    @property
    def n_times(self) -> int:
        """Samples per channel (per sweep when episodic)."""
        return int(self._data.shape[-1])

    @property
    def n_sweeps(self) -> int:
        """Number of sweeps (1 for continuous data)."""
        return int(self._data.shape[0]) if self.is_episodic else 1

    @property
    def duration(self) -> float:
        """Seconds of data per channel (per sweep when episodic)."""
        return self.n_times / self.sfreq

    @property
    def times(self) -> np.ndarray:
        """Sample times in seconds from the start of the recording (or of each sweep)."""
        return np.arange(self.n_times) / self.sfreq

    @property
    def is_lazy(self) -> bool:
        """True while the data have not been loaded into memory."""
        return not isinstance(self._data, np.ndarray) or isinstance(self._data, np.memmap)

    @property
    def data(self) -> np.ndarray:
        """All the data as a numpy array in SI units (loaded once, then kept)."""
        if not isinstance(self._data, np.ndarray):
            self._data = np.asarray(self._data, dtype=float)
        return self._data

    def pick_indices(self, picks: str | int | Sequence[str | int] | None = None) -> np.ndarray:
        """Channel indices for ``picks``: names, indices, a channel type, or None (all)."""
        if picks is None:
            return np.arange(self.n_channels)
        if isinstance(picks, (str, int, np.integer)):
            picks = [picks]
        out = []
        for p in picks:
            if isinstance(p, (int, np.integer)):
                if not -self.n_channels <= p < self.n_channels:
                    raise KetephysError(f"channel index {p} out of range", self.source.path)
                out.append(int(p) % self.n_channels)
            elif p in self.ch_names:
                out.append(self.ch_names.index(p))
            elif p in CH_TYPES:
                out.extend(i for i, t in enumerate(self.ch_types) if t == p)
            else:
                raise KetephysError(
                    f"no channel or channel type {p!r}; channels are {self.ch_names}",
                    self.source.path)
        return np.asarray(out, dtype=int)

    def get_data(
        self,
        picks: str | int | Sequence[str | int] | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> np.ndarray:
        """Read channels ``picks`` and samples ``start:stop`` without loading the rest.

        Returns ``(n_picks, n)`` for continuous and ``(n_sweeps, n_picks, n)`` for
        episodic recordings, in SI units.
        """
        idx = self.pick_indices(picks)
        stop = self.n_times if stop is None else min(int(stop), self.n_times)
        start = max(int(start), 0)
        data = self._data
        if hasattr(data, "read") and not isinstance(data, np.ndarray):
            return data.read(idx, start, stop)
        if self.is_episodic:
            block = np.asarray(data[:, idx, start:stop], dtype=float)  # fancy index: a copy
        else:
            block = np.asarray(data[idx, start:stop], dtype=float)  # fancy index: a copy
        release_mapped_pages(data)
        return block

    def iter_chunks(
        self,
        chunk_seconds: float = 60.0,
        picks: str | int | Sequence[str | int] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first_sample, block)`` over a continuous recording in blocks of
        ``chunk_seconds``, reading each block only when it is reached."""
        if self.is_episodic:
            raise KetephysError("iter_chunks needs a continuous recording", self.source.path)
        step = max(1, int(round(chunk_seconds * self.sfreq)))
        for start in range(0, self.n_times, step):
            yield start, self.get_data(picks, start, start + step)

    def copy(self, data: np.ndarray | None = None) -> Recording:
        """A copy (deep for the events and metadata); ``data`` replaces the samples."""
        new = Recording(
            self.data.copy() if data is None else data, self.sfreq, list(self.ch_names),
            ch_types=list(self.ch_types), units=list(self.units),
            sweep_starts=None if self.sweep_starts is None else self.sweep_starts.copy(),
            events=self.events.copy(), meta=self._meta_copy(), source=self.source,
            modality=self.modality)
        new.reader_flags = {k: list(v) for k, v in self.reader_flags.items()}
        return new

    def _meta_copy(self) -> StudyMeta:
        meta = StudyMeta.from_sources([("copy", self.meta)])
        meta.sources = dict(self.meta.sources)
        meta.conflicts = list(self.meta.conflicts)
        return meta

    def pick(self, picks: str | int | Sequence[str | int]) -> Recording:
        """A new recording with only the channels ``picks`` (metadata copied)."""
        idx = self.pick_indices(picks)
        new = Recording(
            self.get_data(idx.tolist()), self.sfreq, [self.ch_names[i] for i in idx],
            ch_types=[self.ch_types[i] for i in idx], units=[self.units[i] for i in idx],
            sweep_starts=self.sweep_starts, events=self.events.copy(),
            meta=self._meta_copy(), source=self.source, modality=self.modality)
        new.reader_flags = {k: list(v) for k, v in self.reader_flags.items()
                            if k in new.ch_names}
        return new

    def pick_sweeps(self, sweeps: Sequence[int]) -> Recording:
        """A new episodic recording with only the sweeps ``sweeps`` (indices), with their
        start times and events (renumbered) and a copy of the metadata.

        Parameters
        ----------
        sweeps : sequence of int

        Returns
        -------
        Recording
        """
        if not self.is_episodic:
            raise KetephysError("pick_sweeps needs an episodic recording", self.source.path)
        idx = np.asarray(sweeps, dtype=int).ravel()
        if idx.size == 0 or idx.min() < -self.n_sweeps or idx.max() >= self.n_sweeps:
            raise KetephysError(f"sweeps {idx.tolist()} out of range (0..{self.n_sweeps - 1})",
                                self.source.path)
        idx = idx % self.n_sweeps
        data = np.asarray(self._data[idx] if isinstance(self._data, np.ndarray)
                          else self.data[idx], dtype=float)
        ev = self.events
        keep = ev["sweep"].isin(idx.tolist())
        events = ev[keep].copy()
        events["sweep"] = events["sweep"].map({int(s): i for i, s in enumerate(idx)})
        new = Recording(data, self.sfreq, list(self.ch_names), ch_types=list(self.ch_types),
                        units=list(self.units), sweep_starts=self.sweep_starts[idx],
                        events=events, meta=self._meta_copy(), source=self.source,
                        modality=self.modality)
        new.reader_flags = {k: list(v) for k, v in self.reader_flags.items()}
        return new

    def quality_flags(self, chunk_seconds: float = 600.0) -> dict[str, list[str]]:
        """Per-channel flags: ``all_nan``, ``has_nan``, ``flat`` (peak-to-peak 0).

        Reads the data in chunks, so it works on lazy recordings of any length.
        """
        n = self.n_channels
        finite_any = np.zeros(n, bool)
        nan_any = np.zeros(n, bool)
        lo = np.full(n, np.inf)
        hi = np.full(n, -np.inf)
        if self.is_episodic:
            blocks: Any = [(0, self.get_data())]
        else:
            blocks = self.iter_chunks(chunk_seconds)
        for _, block in blocks:
            x = block if block.ndim == 2 else np.moveaxis(block, 1, 0).reshape(n, -1)
            fin = np.isfinite(x)
            finite_any |= fin.any(axis=1)
            nan_any |= ~fin.all(axis=1)
            with np.errstate(invalid="ignore"):
                lo = np.minimum(lo, np.where(fin, x, np.inf).min(axis=1))
                hi = np.maximum(hi, np.where(fin, x, -np.inf).max(axis=1))
        flags: dict[str, list[str]] = {}
        for i, name in enumerate(self.ch_names):
            f = []
            if not finite_any[i]:
                f.append("all_nan")
            elif nan_any[i]:
                f.append("has_nan")
            if finite_any[i] and hi[i] - lo[i] == 0:
                f.append("flat")
            if f:
                flags[name] = f
        return flags

    def plot(self, picks: str | int | Sequence[str | int] | None = None, start: float = 0.0,
             duration: float = 10.0, n_sweeps: int = 20, show: bool | None = None) -> Any:
        """Continuous data as stacked traces (MNE's browser when a GUI backend is active),
        episodic data as an overlay of sweeps with the stimuli marked.

        Parameters
        ----------
        picks : str, int or list, optional
            Channels (default: the first 20 continuous / 4 episodic non-stim channels).
        start, duration : float
            Seconds shown of continuous data.
        n_sweeps : int
            Most sweeps overlaid.
        show : bool or None
            Show the figure (default: only when matplotlib is interactive).

        Returns
        -------
        matplotlib.figure.Figure
            A static figure, or MNE's browser figure.
        """
        from .viz.recording import gui_backend, plot_recording

        if not self.is_episodic and gui_backend() and show is not False:
            return self.to_mne().plot(start=start, duration=duration, show=show is not False)
        return plot_recording(self, picks, start, duration, n_sweeps, show)

    def __repr__(self) -> str:
        shape = (f"{self.n_sweeps} sweeps x " if self.is_episodic else "") + (
            f"{self.n_channels} ch x {self.n_times} samples")
        where = os.path.basename(self.source.path) if self.source.path else "memory"
        return (f"<Recording {where} ({self.source.format}) | {shape} @ {self.sfreq:g} Hz | "
                f"{len(self.events)} events | subject={self.meta.subject!r}>")

    # ------------------------------------------------------------------ MNE bridge
    def _bridge_json(self, with_events: bool) -> str:
        payload: dict[str, Any] = {
            "ch_types": self.ch_types,
            "units": self.units,
            "meta": self.meta.to_dict(extras=True),
            "source": [self.source.path, self.source.format, self.source.reader],
            "modality": self.modality,
        }
        if self.sweep_starts is not None:
            payload["sweep_starts"] = [float(s) for s in self.sweep_starts]
        if with_events:
            ev = self.events
            payload["events"] = {
                "onset": [float(v) for v in ev["onset"]],
                "duration": [float(v) for v in ev["duration"]],
                "description": [str(v) for v in ev["description"]],
                "sweep": [None if pd.isna(v) else int(v) for v in ev["sweep"]],
            }
        return _MNE_MARKER + json.dumps(payload, default=str)

    def to_mne(self) -> Any:
        """This recording as ``mne.io.RawArray`` (continuous) or ``mne.EpochsArray``
        (episodic; one epoch per sweep).

        Channel types map to MNE's (``lfp`` -> ``seeg``; ``field``, ``vm``, ``im`` ->
        ``misc`` with the FIFF unit set); ketephys' own types, units, metadata and sweep
        times are stored in ``info["description"]`` so :meth:`from_mne` restores them.
        """
        import mne
        from mne.io.constants import FIFF

        info = mne.create_info(self.ch_names, self.sfreq,
                               [_TO_MNE_TYPE[t] for t in self.ch_types], verbose=False)
        fiff_unit = {"V": FIFF.FIFF_UNIT_V, "A": FIFF.FIFF_UNIT_A, "": FIFF.FIFF_UNIT_NONE}
        with info._unlock():
            for ch, unit in zip(info["chs"], self.units):
                if unit in fiff_unit:
                    ch["unit"] = fiff_unit[unit]
            info["description"] = self._bridge_json(with_events=self.is_episodic)
        if self.is_episodic:
            n = self.n_sweeps
            ev = np.column_stack([np.arange(n), np.zeros(n, int), np.ones(n, int)])
            return mne.EpochsArray(self.data, info, events=ev, tmin=0.0, verbose=False)
        raw = mne.io.RawArray(self.data, info, verbose=False)
        if len(self.events):
            raw.set_annotations(mne.Annotations(
                self.events["onset"].to_numpy(float), self.events["duration"].to_numpy(float),
                self.events["description"].to_numpy(str)))
        return raw

    @classmethod
    def from_mne(cls, inst: Any, meta: StudyMeta | dict | None = None,
                 source: Source | None = None, modality: str | None = None) -> Recording:
        """A recording from an MNE ``Raw`` or ``Epochs``.

        A Raw that is not preloaded stays lazy: samples are read when asked for.
        Annotations become events (onsets from the first sample). Epochs become sweeps
        starting at their event time plus ``tmin``. ``modality`` (else the one stored by
        :meth:`to_mne`, else inferred) is kept.
        """
        import mne

        stored: dict[str, Any] = {}
        desc = inst.info.get("description") or ""
        if isinstance(desc, str) and desc.startswith(_MNE_MARKER):
            stored = json.loads(desc[len(_MNE_MARKER):])
        mne_types = inst.get_channel_types()
        from mne.io.constants import FIFF

        if "ch_types" in stored:
            ch_types = stored["ch_types"]
            units = stored["units"]
        else:
            ch_types = [_FROM_MNE_TYPE.get(t, "misc") for t in mne_types]
            units = []
            for ch in inst.info["chs"]:
                code = int(ch["unit"])
                units.append("V" if code == FIFF.FIFF_UNIT_V else
                             "A" if code == FIFF.FIFF_UNIT_A else "")
        if source is None:
            if "source" in stored:
                source = Source(*stored["source"])
            else:
                fnames = getattr(inst, "filenames", None) or [None]
                source = Source(None if fnames[0] is None else str(fnames[0]), "mne",
                                "ketephys.Recording.from_mne")
        metas = [("keyword", meta), ("stored", stored.get("meta"))]
        merged = StudyMeta.from_sources(metas, path=source.path)
        if isinstance(inst, mne.BaseEpochs):
            data = inst.get_data(copy=True)
            if "sweep_starts" in stored:
                starts = np.asarray(stored["sweep_starts"], float)
            else:
                first = getattr(inst, "_first_samp", 0) or 0
                starts = (inst.events[:, 0] - first) / inst.info["sfreq"] + inst.tmin
            events = stored.get("events")
            return cls(data, inst.info["sfreq"], inst.ch_names, ch_types, units,
                       sweep_starts=starts, events=events, meta=merged, source=source,
                       modality=modality or stored.get("modality"))
        data: Any = inst._data if inst.preload else _MNESlicer(inst)
        ann = inst.annotations
        onset = np.asarray(ann.onset, float)
        if ann.orig_time is not None:
            onset = onset - inst.first_time
        events = pd.DataFrame({"onset": onset, "duration": np.asarray(ann.duration, float),
                               "description": list(ann.description)})
        return cls(data, inst.info["sfreq"], inst.ch_names, ch_types, units,
                   events=events, meta=merged, source=source,
                   modality=modality or stored.get("modality"))

    # ------------------------------------------------------------------ Neo bridge
    def to_neo(self) -> Any:
        """This recording as a ``neo.Block``: one Segment per sweep (one for continuous
        data), one AnalogSignal per channel with its unit, events as a ``neo.Epoch``
        (times, durations, labels) per segment, metadata in ``block.annotations``."""
        import neo
        import quantities as pq

        block = neo.Block(name=os.path.basename(self.source.path or "recording"))
        block.annotate(ketephys=self._bridge_json(with_events=False))
        data = self.data if self.is_episodic else self.data[np.newaxis]
        starts = self.sweep_starts if self.is_episodic else np.zeros(1)
        ev = self.events
        for s in range(data.shape[0]):
            seg = neo.Segment(name=f"sweep {s}", index=s)
            for c, name in enumerate(self.ch_names):
                unit = self.units[c] or "dimensionless"
                unit = {"Ohm": "ohm"}.get(unit, unit)
                sig = neo.AnalogSignal(data[s, c][:, np.newaxis], units=unit,
                                       sampling_rate=self.sfreq * pq.Hz,
                                       t_start=float(starts[s]) * pq.s, name=name)
                sig.annotate(ch_type=self.ch_types[c])
                seg.analogsignals.append(sig)
            if self.is_episodic:
                rows = ev[ev["sweep"] == s]
            else:
                rows = ev
            if len(rows):
                seg.epochs.append(neo.Epoch(
                    times=(rows["onset"].to_numpy(float) + float(starts[s])) * pq.s,
                    durations=rows["duration"].to_numpy(float) * pq.s,
                    labels=rows["description"].to_numpy(str), name="ketephys events"))
            block.segments.append(seg)
        return block

    @classmethod
    def from_neo(
        cls,
        block: Any,
        units: dict[str, str] | None = None,
        channels: Sequence[str] | None = None,
        ch_types: dict[str, str] | None = None,
        meta: StudyMeta | dict | None = None,
        source: Source | None = None,
        episodic: bool | None = None,
        modality: str | None = None,
    ) -> Recording:
        """A recording from a ``neo.Block``.

        Parameters
        ----------
        block : neo.Block
            Read with ``signal_group_mode="split-all"`` or not; every AnalogSignal channel
            of a segment becomes a channel.
        units : dict, optional
            Channel name -> the unit its raw values really are in, overriding the file
            (e.g. ``{"Ipatch": "mV"}`` for a field channel labelled pA, or for WinWCP's
            ``mv`` that Neo returns dimensionless).
        channels : sequence of str, optional
            Keep only these channels (e.g. to drop channels sampled at another rate).
        ch_types : dict, optional
            Channel name -> ketephys channel type; otherwise inferred from the unit
            (V -> ``vm`` for patch-style names, else ``field``; A -> ``im``).
        meta, source
            As in :class:`Recording`.
        episodic : bool, optional
            Force sweeps (True) or one continuous segment (False); by default a block with
            several segments is episodic.
        modality : str, optional
            As in :class:`Recording` (default: the one stored by :meth:`to_neo`, else
            inferred from the channel types).
        """
        from ._neo import block_parts

        path = None if source is None else source.path
        parts = block_parts(block, units=units, channels=channels, ch_types=ch_types,
                            episodic=episodic, path=path)
        stored: dict[str, Any] = {}
        note = block.annotations.get("ketephys") if hasattr(block, "annotations") else None
        if isinstance(note, str) and note.startswith(_MNE_MARKER):
            stored = json.loads(note[len(_MNE_MARKER):])
        if source is None:
            source = Source(*stored["source"]) if "source" in stored else Source(
                None, "neo", "ketephys.Recording.from_neo")
        merged = StudyMeta.from_sources([("keyword", meta), ("stored", stored.get("meta"))],
                                        path=source.path)
        if ("ch_types" in stored and len(stored["ch_types"]) == len(parts["ch_names"])
                and not ch_types):
            parts["ch_types"] = stored["ch_types"]
        return cls(**parts, meta=merged, source=source,
                   modality=modality or stored.get("modality"))

def release_mapped_pages(array: Any) -> None:
    """Let the kernel drop the pages of a memory-mapped file that were read so far.

    Pages of a file mapping stay in the process's resident set after they were read, so a
    pass over a days-long memory-mapped recording would grow the RSS with the file's
    length although only one block is held. Readers call this after copying a block out
    of a ``numpy.memmap``; it does nothing for other arrays.
    """
    import mmap

    mapped = getattr(array, "_mmap", None)
    if mapped is None or not hasattr(mapped, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        mapped.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # closed map or a platform that refuses: harmless
        pass
