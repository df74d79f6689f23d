"""The :class:`Recording`: one container for every modality ketephys reads.

A recording is continuous, ``data`` of shape ``(n_channels, n_times)``, or episodic,
``(n_sweeps, n_channels, n_times)``, always in SI units (V, A). Sweep start times come from
the file and keep real gaps. Events (annotations, stimuli, TMS pulses) are a DataFrame.
Study metadata (:class:`~ketephys.meta.StudyMeta`) rides along into every output row.

The data may be held lazily (a memory map or a reader that loads slices on demand):
:meth:`Recording.get_data` and :meth:`Recording.iter_chunks` read only what is asked for;
:attr:`Recording.data` loads everything once and keeps it.

This module holds the container; its parts live beside it in the base layer: the channel
vocabulary and label checks (:mod:`ketephys._channels`), the sample checks
(:mod:`ketephys._samples`), the events table (:mod:`ketephys._events`), the source
(:mod:`ketephys._source`) and the MNE and Neo conversions (:mod:`ketephys._mne`,
:mod:`ketephys._neo`, with the note they leave in MNE/Neo objects: :mod:`ketephys._bridge`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._channels import (
    CH_TYPES,
    MODALITIES,
    SIGNAL_TYPES,
    check_ch_names,
    check_ch_types,
    check_modality,
    check_units,
    infer_modality,
    untyped_channel_type,
)
from ._events import EVENT_COLUMNS, as_event_frame
from ._mne import mne_parts, to_mne
from ._neo import neo_parts, to_neo
from ._samples import (
    check_data,
    check_sfreq,
    check_sweep_starts,
    release_mapped_pages,
    scan_quality,
)
from ._source import Source
from .errors import AnalysisError, KetephysError, MetadataError
from .meta import StudyMeta
from .units import si_scale

__all__ = ["Recording", "Source", "CH_TYPES", "EVENT_COLUMNS", "MODALITIES", "SIGNAL_TYPES",
           "infer_modality"]


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

    Raises
    ------
    MetadataError
        When the sampling rate, channel names, units, sweep start times or events do not
        fit the data (the message names what and, for a file, the file).
    SettingsError
        For a channel type or modality that is not one of the known ones.
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
        self._data = check_data(data, path)
        self.sfreq = check_sfreq(sfreq, path)
        n_ch = self._data.shape[-2]
        self.ch_names = check_ch_names(ch_names, n_ch, path)
        self.ch_types = ["misc"] * n_ch if ch_types is None else ch_types
        self.units = units
        self.sweep_starts = check_sweep_starts(self._data.shape, self.sfreq, sweep_starts,
                                               path)
        self.events = as_event_frame(events, path)
        self.meta = meta if isinstance(meta, StudyMeta) else StudyMeta.from_sources(
            [("keyword", meta)], path=path)
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
        self._ch_types = check_ch_types(types, self.n_channels, self.source.path)

    @property
    def units(self) -> list[str]:
        """SI unit per channel (one of :data:`~ketephys.units.SI_UNITS`); read-only list.

        Assigning a whole list (or one string for every channel) validates it; change
        single channels with :meth:`set_units`.
        """
        return self._units

    @units.setter
    def units(self, units: str | Sequence[str]) -> None:
        self._units = check_units(units, self.n_channels, self.source.path)

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
        self._modality = check_modality(value, self.source.path)

    def default_picks(self) -> list[int]:
        """The channels an analysis uses unless told otherwise: the modality's signal
        channels (:data:`SIGNAL_TYPES`).

        EEG and TMS-EEG analyse ``eeg`` channels, LFP ``lfp``, fEPSP ``field``, patch
        ``vm``/``im``. Stim, misc, EOG, ECG and EMG channels are never analysed unless
        picked by name or type. The same rule serves scripts, the batch and the report.
        Only a recording of unknown modality whose channels are all untyped (``misc``,
        as :meth:`from_array` makes without ``ch_types``) analyses all of them.

        Returns
        -------
        list of int
            Indices of the channels to analyse, in channel order.

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
            The data in SI units; channels given no type get the modality's signal type
            when their unit fits it (V: ``eeg``, ``lfp``, ``field``, ``vm``; A: ``im``),
            else ``misc``.

        Raises
        ------
        MetadataError
            When the data are not numeric or the number of units is not the number of
            channels.
        UnitError
            For a unit that cannot be converted to SI.
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
            ch_types = [untyped_channel_type(modality, base) for base, _ in conv]
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
        """Channel indices for ``picks``.

        Parameters
        ----------
        picks : str, int, sequence of str/int, or None
            Channel names, channel indices (negative counts from the end), channel types
            (every channel of that type), mixed in a list; None: all channels.

        Returns
        -------
        numpy.ndarray of int
            The indices, in the order picked.

        Raises
        ------
        KetephysError
            For an index out of range or a name that is neither a channel nor a type.
        """
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

        Parameters
        ----------
        picks : str, int, sequence of str/int, or None
            Channels, as in :meth:`pick_indices` (default all).
        start : int
            First sample (clipped at 0).
        stop : int, optional
            One past the last sample (default and upper bound: :attr:`n_times`).

        Returns
        -------
        numpy.ndarray
            ``(n_picks, n)`` for continuous and ``(n_sweeps, n_picks, n)`` for episodic
            recordings, float, in SI units (a copy: the recording is not changed).
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
        """Read a continuous recording block by block, each block only when it is reached.

        Parameters
        ----------
        chunk_seconds : float
            Length of a block in seconds (rounded to whole samples, at least one).
        picks : str, int, sequence of str/int, or None
            Channels, as in :meth:`pick_indices` (default all).

        Yields
        ------
        first_sample : int
            Index of the block's first sample.
        block : numpy.ndarray
            ``(n_picks, n)`` samples in SI units (the last block may be shorter).

        Raises
        ------
        KetephysError
            For an episodic recording.
        """
        if self.is_episodic:
            raise KetephysError("iter_chunks needs a continuous recording", self.source.path)
        step = max(1, int(round(chunk_seconds * self.sfreq)))
        for start in range(0, self.n_times, step):
            yield start, self.get_data(picks, start, start + step)

    def copy(self, data: np.ndarray | None = None) -> Recording:
        """A copy (deep for the samples, events and metadata).

        Parameters
        ----------
        data : numpy.ndarray, optional
            Samples to put in place of a copy of the recording's own (same shape, SI
            units), e.g. filtered data.

        Returns
        -------
        Recording
            With the same labels, sweep times, source, modality and reader flags.
        """
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
        """A new recording with only some channels (metadata and events copied).

        Parameters
        ----------
        picks : str, int or sequence of str/int
            Channels, as in :meth:`pick_indices`.

        Returns
        -------
        Recording
            The picked channels in the order picked, with their reader flags.
        """
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
            Sweep indices (negative counts from the end), in the order wanted.

        Returns
        -------
        Recording
            The sweeps picked, renumbered 0, 1, ... in the order given.

        Raises
        ------
        KetephysError
            For a continuous recording, no sweep, or an index out of range.
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

        Parameters
        ----------
        chunk_seconds : float
            Length of the blocks read at a time (continuous recordings; episodic ones are
            read whole).

        Returns
        -------
        dict
            Channel name -> list of flags, for the flagged channels only.
        """
        if self.is_episodic:
            blocks: Any = [(0, self.get_data())]
        else:
            blocks = self.iter_chunks(chunk_seconds)
        return scan_quality(blocks, self.ch_names)

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
    def to_mne(self) -> Any:
        """This recording as ``mne.io.RawArray`` (continuous) or ``mne.EpochsArray``
        (episodic; one epoch per sweep).

        Channel types map to MNE's (``lfp`` -> ``seeg``; ``field``, ``vm``, ``im`` ->
        ``misc`` with the FIFF unit set); ketephys' own types, units, metadata and sweep
        times are stored in ``info["description"]`` so :meth:`from_mne` restores them.

        Returns
        -------
        mne.io.RawArray or mne.EpochsArray
            A Raw with the events as annotations, or Epochs with the sweeps.
        """
        return to_mne(self)

    @classmethod
    def from_mne(cls, inst: Any, meta: StudyMeta | dict | None = None,
                 source: Source | None = None, modality: str | None = None) -> Recording:
        """A recording from an MNE ``Raw`` or ``Epochs``.

        The conversion is the one :func:`ketephys.read` uses for EDF/BDF, BrainVision,
        EEGLAB and FIF files (:mod:`ketephys._mne`).

        Parameters
        ----------
        inst : mne.io.BaseRaw or mne.BaseEpochs
            A Raw that is not preloaded stays lazy: samples are read when asked for.
            Annotations become events (onsets from the first sample). Epochs become
            sweeps starting at their event time plus ``tmin``.
        meta : StudyMeta or dict, optional
            Study metadata; wins over what :meth:`to_mne` stored.
        source : Source, optional
            Where the data came from (default: the one stored by :meth:`to_mne`, else
            the file MNE read).
        modality : str, optional
            As in :class:`Recording` (default: the one stored by :meth:`to_mne`, else
            inferred from the channel types).

        Returns
        -------
        Recording
            Channel types from MNE's (``seeg``, ``ecog``, ``dbs`` -> ``lfp``; unknown ->
            ``misc``) and units from the FIFF codes (V, A, else ``""``), unless
            :meth:`to_mne` stored ketephys' own.
        """
        return cls(**mne_parts(inst, meta=meta, source=source, modality=modality))

    # ------------------------------------------------------------------ Neo bridge
    def to_neo(self) -> Any:
        """This recording as a ``neo.Block``.

        Returns
        -------
        neo.Block
            One Segment per sweep (one for continuous data), one AnalogSignal per channel
            with its unit, events as a ``neo.Epoch`` (times, durations, labels) per
            segment, metadata in ``block.annotations``.
        """
        return to_neo(self)

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

        The conversion is the one :func:`ketephys.read` uses for Neo files
        (:mod:`ketephys._neo`).

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
            Channel name -> ketephys channel type; otherwise the type stored by
            :meth:`to_neo`, else from the unit (V -> ``field``, A -> ``im``, else
            ``misc``).
        meta, source
            As in :class:`Recording`.
        episodic : bool, optional
            Force sweeps (True) or one continuous segment (False); by default a block with
            several segments is episodic.
        modality : str, optional
            As in :class:`Recording` (default: the one stored by :meth:`to_neo`, else
            inferred from the channel types).

        Returns
        -------
        Recording
            In SI units; sweeps start at their segments' ``t_start``.

        Raises
        ------
        MetadataError
            When ``channels`` names a channel the block does not have.
        KetephysError
            When the block has no segment or signal, the channels picked are sampled at
            different rates, or segments disagree in channels or (continuous) length.
        """
        return cls(**neo_parts(block, units=units, channels=channels, ch_types=ch_types,
                               meta=meta, source=source, episodic=episodic,
                               modality=modality))
