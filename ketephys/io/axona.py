"""Axona dacqUSB continuous LFP: ``.eeg``, ``.eeg2``... (int8, 250 Hz) and ``.egf``,
``.egf2``... (int16, 4.8 kHz), with the trial's ``.set`` file. Neo has no reader for these.

Built like a Neo rawio: :func:`parse_axona_header` reads the ASCII headers only;
:class:`AxonaSamples` memory-maps each channel file at its ``data_start`` offset and scales
only the samples asked for, so a days-long trial is never loaded whole.

File layout: ASCII lines ``key value`` up to the marker ``data_start``, then
``num_EEG_samples`` (or ``num_EGF_samples``) samples of ``bytes_per_sample`` bytes
(little-endian), then ``\\r\\ndata_end``. Volts = sample / 2**(8*bytes - 1) x
``ADC_fullscale_mv`` / gain x 1e-3, where the gain is ``gain_ch_<n-1>`` for the recording
channel ``n`` that ``EEG_ch_<k>`` names in the ``.set`` (``.eeg`` is k=1, ``.eegK`` is k).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, MetadataError, MissingCompanionError
from ..recording import Recording, Source
from ._files import unique_paths

__all__ = ["read_axona", "parse_axona_header", "AxonaChannel", "AxonaSamples", "is_axona",
           "axona_channel_files"]

_MARKER = b"data_start"
_EXT = re.compile(r"^\.(eeg|egf)(\d*)$", re.I)
_MAX_HEADER = 16384


def is_axona(path: Path) -> bool:
    """Whether a file starts like an Axona file.

    Parameters
    ----------
    path : Path
        Any file.

    Returns
    -------
    bool
        True when the first line is the ``trial_date`` header field; False otherwise or
        when the file cannot be opened.
    """
    try:
        with open(path, "rb") as fh:
            return fh.read(10) == b"trial_date"
    except OSError:
        return False


def _parse_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        out.setdefault(key, value.strip())
    return out


def parse_axona_header(path: Path) -> tuple[dict[str, str], int]:
    """The ASCII header of an Axona data file and where its samples start.

    Parameters
    ----------
    path : Path
        A ``.eeg*``/``.egf*`` (or ``.set``) file.

    Returns
    -------
    header : dict of str to str
        ``key -> value`` of the lines before ``data_start`` (first occurrence of a key).
    offset : int
        Byte offset of the first sample (just after ``data_start``).

    Raises
    ------
    CorruptFileError
        When the file does not start with ``trial_date`` or has no ``data_start`` in its
        first 16 kB.
    """
    with open(path, "rb") as fh:
        head = fh.read(_MAX_HEADER)
    pos = head.find(_MARKER)
    if not head.startswith(b"trial_date") or pos < 0:
        raise CorruptFileError("not an Axona file (no 'trial_date' header ending in "
                               "'data_start')", path)
    return _parse_lines(head[:pos].decode("latin-1")), pos + len(_MARKER)


def _number(header: dict[str, str], key: str, path: Path, kind: type = float) -> Any:
    if key not in header:
        raise CorruptFileError(f"header field {key!r} is missing", path)
    text = header[key].split()[0] if header[key] else ""
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError as exc:
        raise CorruptFileError(f"header field {key!r} is not a number: {header[key]!r}",
                               path) from exc


@dataclass(frozen=True)
class AxonaChannel:
    """One Axona channel file: where its samples are and how to scale them to volts.

    Attributes
    ----------
    path : Path
        The ``.eeg*``/``.egf*`` file.
    name : str
        Channel name, ``EEG_ch_<k>`` or ``EGF_ch_<k>``.
    offset : int
        Byte offset of the first sample.
    n_samples : int
        Number of samples the header declares.
    dtype : str
        ``"i1"`` (1-byte samples) or ``"<i2"`` (2-byte, little-endian).
    sfreq : float
        Sampling rate in Hz.
    scale : float
        Volts per sample unit (ADC full scale / gain / 2**(8*bytes - 1)).
    """

    path: Path
    name: str
    offset: int
    n_samples: int
    dtype: str
    sfreq: float
    scale: float  # volts per sample unit


def axona_channel_files(path: Path) -> tuple[Path, list[Path]]:
    """The trial's ``.set`` and its channel files of one family.

    Parameters
    ----------
    path : Path
        The trial's ``.set`` or one of its ``.eeg*``/``.egf*`` files (then only that
        family: ``.eeg`` and ``.egf`` differ in rate).

    Returns
    -------
    setfile : Path
        The ``.set`` beside ``path``.
    files : list of Path
        The channel files in order (``.eeg``, ``.eeg2``... or ``.egf``, ``.egf2``...); from
        a ``.set``, the ``.eeg`` family when both exist.

    Raises
    ------
    MissingCompanionError
        When the ``.set`` or every channel file is missing.
    """
    path = Path(path)
    setfile = path.with_suffix(".set")
    if not setfile.is_file():
        raise MissingCompanionError(
            f"the trial's .set file {setfile.name} (gains, ADC range) is not beside it", path)
    files = []
    for cand in sorted(path.parent.glob(path.stem + ".*")):
        m = _EXT.match(cand.suffix)
        if m and cand.is_file():
            files.append((m.group(1).lower(), int(m.group(2) or 1), cand))
    if path.suffix.lower() != ".set":
        kind = _EXT.match(path.suffix)
        if kind:  # one family only: the rate of .eeg and .egf differ
            files = [f for f in files if f[0] == kind.group(1).lower()]
    if not files:
        raise MissingCompanionError("no .eeg/.egf channel files of this trial", setfile)
    fam = files[0][0] if all(f[0] == files[0][0] for f in files) else "eeg"
    files = sorted((f for f in files if f[0] == fam), key=lambda f: f[1])
    return setfile, [f[2] for f in files]


def _channel(path: Path, settings: dict[str, str], setfile: Path) -> AxonaChannel:
    header, offset = parse_axona_header(path)
    m = _EXT.match(path.suffix)
    family, k = m.group(1).lower(), int(m.group(2) or 1)
    n_key = "num_EGF_samples" if family == "egf" else "num_EEG_samples"
    if n_key not in header:
        n_key = "num_EEG_samples" if n_key not in header and "num_EEG_samples" in header else n_key
    n = _number(header, n_key, path, int)
    width = _number(header, "bytes_per_sample", path, int)
    if width not in (1, 2):
        raise CorruptFileError(f"bytes_per_sample {width}: expected 1 or 2", path)
    sfreq = _number(header, "sample_rate", path)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise CorruptFileError(f"sample_rate must be positive, got {header['sample_rate']!r}",
                               path)
    if n < 0:
        raise CorruptFileError(f"{n_key} is negative", path)
    size = path.stat().st_size
    if offset + n * width > size:
        raise CorruptFileError(
            f"truncated: the header promises {n} samples ({offset + n * width} bytes) but "
            f"the file has {size} bytes", path)
    fullscale = _number(settings, "ADC_fullscale_mv", setfile)
    chan_key = f"EEG_ch_{k}"
    rec_chan = _number(settings, chan_key, setfile, int)
    if rec_chan < 1:
        raise MetadataError(f"{chan_key} is {rec_chan}: {path.name} has no recording channel",
                            setfile)
    gain = _number(settings, f"gain_ch_{rec_chan - 1}", setfile)
    if gain <= 0:
        raise MetadataError(f"gain_ch_{rec_chan - 1} must be positive, got {gain}", setfile)
    scale = fullscale / gain * 1e-3 / float(2 ** (8 * width - 1))
    name = f"{'EEG' if family == 'eeg' else 'EGF'}_ch_{k}"
    return AxonaChannel(path, name, offset, n, "i1" if width == 1 else "<i2", sfreq, scale)


class AxonaSamples:
    """Lazy ``(n_channels, n_times)`` view of Axona channel files (read-only memory maps,
    opened on first use and again after pickling); ``read(picks, start, stop)`` returns
    volts for just that block.

    Parameters
    ----------
    channels : list of AxonaChannel
        One per channel; the view is as long as the shortest.
    """

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, channels: list[AxonaChannel]):
        self.channels = channels
        self.shape = (len(channels), min(c.n_samples for c in channels))
        self._maps: list[np.memmap | None] = [None] * len(channels)

    def _map(self, i: int) -> np.memmap:
        if self._maps[i] is None:
            c = self.channels[i]
            self._maps[i] = np.memmap(c.path, dtype=c.dtype, mode="r", offset=c.offset,
                                      shape=(c.n_samples,))
        return self._maps[i]

    def read(self, picks: Any, start: int, stop: int) -> np.ndarray:
        """Volts of channels ``picks`` from sample ``start`` to ``stop``.

        Parameters
        ----------
        picks : array-like of int
            Channel indices.
        start, stop : int
            Sample range (``stop`` excluded).

        Returns
        -------
        numpy.ndarray
            Float ``(n_picks, stop - start)``.
        """
        picks = np.asarray(picks, dtype=int)
        out = np.empty((len(picks), max(stop - start, 0)))
        for j, i in enumerate(picks):
            out[j] = self._map(int(i))[start:stop] * self.channels[int(i)].scale
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self.read(np.arange(self.shape[0]), 0, self.shape[1])
        return data if dtype is None else data.astype(dtype, copy=False)

    def __getstate__(self) -> dict:  # memory maps re-open after pickling
        return {"channels": self.channels, "shape": self.shape}

    def __setstate__(self, state: dict) -> None:
        self.channels = state["channels"]
        self.shape = state["shape"]
        self._maps = [None] * len(self.channels)


def read_axona(path: str | Path, ch_type: str = "lfp") -> Recording:
    """Read every LFP channel of an Axona trial.

    Parameters
    ----------
    path : path-like
        The trial's ``.set`` or any of its ``.eeg*``/``.egf*`` files; all channels of that
        family (``.eeg`` 250 Hz or ``.egf`` 4.8 kHz) are returned.
    ch_type : str
        Channel type given to the channels.

    Returns
    -------
    Recording
        Lazy (memory-mapped), in volts; channels named ``EEG_ch_1``... with the recording
        channel in ``meta.extras["axona_channels"]``.
    """
    path = Path(path)
    if path.suffix.lower() != ".set" and not is_axona(path):
        raise CorruptFileError("not an Axona file (no 'trial_date' header)", path)
    setfile, files = axona_channel_files(path)
    try:
        settings = _parse_lines(setfile.read_bytes().decode("latin-1"))
    except OSError as exc:
        raise CorruptFileError(f"cannot read the .set file: {exc}", setfile) from exc
    if "ADC_fullscale_mv" not in settings:
        raise CorruptFileError("not an Axona .set file (no ADC_fullscale_mv)", setfile)
    channels = [_channel(f, settings, setfile) for f in files]
    rates = {c.sfreq for c in channels}
    if len(rates) > 1:
        raise CorruptFileError(f"channel files disagree on the sampling rate: {sorted(rates)}",
                               path)
    lengths = {c.n_samples for c in channels}
    if len(lengths) > 1:
        raise CorruptFileError(
            f"channel files disagree on the number of samples: {sorted(lengths)}", path)
    header = {
        "axona_channels": {c.name: int(settings[f"EEG_ch_{c.name.rsplit('_', 1)[1]}"])
                           for c in channels},
        "trial_date": settings.get("trial_date"),
        "trial_time": settings.get("trial_time"),
    }
    return Recording(AxonaSamples(channels), rates.pop(), [c.name for c in channels],
                     ch_types=[ch_type] * len(channels), units="V", meta=header,
                     source=Source(str(path), "axona", "ketephys.io.axona",
                                   tuple(str(f) for f in unique_paths([path, setfile, *files]))))
