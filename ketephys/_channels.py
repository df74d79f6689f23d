"""The channel vocabulary of a :class:`~ketephys.recording.Recording` and the checks of
its per-channel labels.

Channel types (:data:`CH_TYPES`), modalities (:data:`MODALITIES`) and the channels each
modality analyses (:data:`SIGNAL_TYPES`) are defined here, with the rule that infers a
modality from the channel types (:func:`infer_modality`) and the checks run whenever a
recording's names, types, units or modality are set. :mod:`ketephys.recording` re-exports
the public names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._check import check_option
from .errors import MetadataError
from .units import SI_UNITS

__all__ = ["CH_TYPES", "MODALITIES", "SIGNAL_TYPES", "infer_modality", "untyped_channel_type",
           "Labels", "select_channels", "check_ch_names", "check_ch_types", "check_units", "check_modality"]

#: Channel types a recording may declare.
CH_TYPES = ("eeg", "eog", "emg", "ecg", "lfp", "field", "vm", "im", "stim", "misc")
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

    Parameters
    ----------
    ch_types : sequence of str
        The channel type of every channel (:data:`CH_TYPES`).
    episodic : bool
        True for sweeps ``(n_sweeps, n_channels, n_times)``.

    Returns
    -------
    str or None
        One of :data:`MODALITIES`, or None when the types do not tell.
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


def untyped_channel_type(modality: str | None, unit: str) -> str:
    """The channel type :meth:`Recording.from_array` gives a channel in SI ``unit`` that
    was given no type: the modality's signal type for volts (amperes: ``im`` in patch
    recordings), else ``misc``."""
    if modality in ("eeg", "tms-eeg") and unit == "V":
        return "eeg"
    if modality == "lfp" and unit == "V":
        return "lfp"
    if modality == "fepsp" and unit == "V":
        return "field"
    if modality == "patch":
        return "im" if unit == "A" else "vm" if unit == "V" else "misc"
    return "misc"


class Labels(list):
    """A list of per-channel labels that cannot be changed item by item: every change
    goes through the recording's validating setter (``setter``)."""

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


def select_channels(names: Sequence[str], wanted: Sequence[str] | None,
                    path: Any) -> list[str]:
    """``wanted`` (default all ``names``), checked against the file's channel names.

    The one "channel not in the file" check of every reader (Neo, MNE, arrays, Axona,
    NWB), so it is the same MetadataError, with the same message, whatever read the file.
    """
    names = [str(n) for n in names]
    if wanted is None:
        return names
    missing = [c for c in wanted if c not in names]
    if missing:
        raise MetadataError(f"channels {missing} not in the file; it has {names}",
                            None if path is None else str(path))
    return list(wanted)


def check_typed_names(ch_types: Any, names: Sequence[str], path: Any) -> None:
    """Raise when a ``{channel: type}`` mapping names a channel not in ``names``.

    Parameters
    ----------
    ch_types : mapping or None
        The user's channel types by name.
    names : sequence of str
        The channels the file has (after any pick).
    path : path-like or None
        The file, named in the message.

    Raises
    ------
    MetadataError
        Naming the unknown channels and the file's channels.
    """
    unknown = sorted(set(ch_types or {}) - {str(n) for n in names})
    if unknown:
        raise MetadataError(f"ch_types names channels {unknown} not in {list(names)}",
                            None if path is None else str(path))


def check_ch_names(ch_names: Sequence[Any], n_channels: int, path: str | None) -> list[str]:
    """``ch_names`` as strings, one per channel and unique; MetadataError otherwise."""
    names = [str(c) for c in ch_names]
    if len(names) != n_channels:
        raise MetadataError(f"{len(names)} channel names for {n_channels} channels", path)
    if len(set(names)) != n_channels:
        dup = sorted({c for c in names if names.count(c) > 1})
        raise MetadataError(f"channel names must be unique, repeated: {dup}", path)
    return names


def check_ch_types(types: Sequence[str], n_channels: int, path: str | None) -> Labels:
    """``types`` (lower-cased), one of :data:`CH_TYPES` per channel, as a read-only list.

    Raises
    ------
    MetadataError
        For a string instead of a list, or a count that is not the number of channels.
    SettingsError
        For a type that is not one of :data:`CH_TYPES` (with a did-you-mean hint).
    """
    if isinstance(types, str):
        raise MetadataError(f"channel types must be a list, one per channel, got the "
                            f"string {types!r}; use set_channel_types", path)
    types = [str(t).lower() for t in types]
    if len(types) != n_channels:
        raise MetadataError(f"{len(types)} channel types for {n_channels} channels", path)
    for kind in types:
        check_option("channel type", kind, CH_TYPES, path)
    return Labels(types, "ch_types", "set_channel_types")


def check_units(units: str | Sequence[str], n_channels: int, path: str | None) -> Labels:
    """``units`` (one string for every channel, or one per channel), each one of
    :data:`~ketephys.units.SI_UNITS`, as a read-only list; MetadataError otherwise."""
    unit_list = [units] * n_channels if isinstance(units, str) else [str(u) for u in units]
    if len(unit_list) != n_channels:
        raise MetadataError(f"{len(unit_list)} units for {n_channels} channels", path)
    for u in unit_list:
        if u not in SI_UNITS:
            raise MetadataError(
                f"unit {u!r} is not an SI base unit {SI_UNITS}; "
                "use Recording.from_array to convert", path)
    return Labels(unit_list, "units", "set_units")


def check_modality(value: str | None, path: str | None) -> str | None:
    """``value`` when it is None or one of :data:`MODALITIES`; SettingsError otherwise."""
    if value is not None:
        check_option("modality", value, MODALITIES, path)
    return value
