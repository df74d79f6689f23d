"""Neo -> Recording conversion: the one place that turns Neo objects into the arrays,
channel names, SI units and types of a :class:`~ketephys.recording.Recording`.

Shared by :meth:`Recording.from_neo <ketephys.recording.Recording.from_neo>` (any
``neo.Block``) and the Neo readers of :mod:`ketephys.io.ephys` (files without a rawio
layer go through ``from_neo``; files with one are read straight from the rawio layer and
use the same checks below), so a file read by ``read`` and a Block converted by hand get
the same channels, units, types and error messages.

The way back, :func:`to_neo`, is here too. This module sits beside ``recording.py`` in
the base layer and never imports it (the recording calls it), so it has no cycle and
imports nothing above the base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._bridge import read_note, write_note
from ._channels import select_channels
from ._source import Source
from .errors import KetephysError, UnitError
from .meta import StudyMeta
from .units import si_scale

__all__ = ["select_channels", "one_rate", "is_episodic", "default_ch_type", "block_parts",
           "neo_parts", "neo_unit_to_si", "to_neo"]


def one_rate(rates: set[float], path: Any) -> float:
    """The one sampling rate of the channels asked for."""
    if len(rates) > 1:
        raise KetephysError(f"channels are sampled at different rates {sorted(rates)} Hz; "
                            "choose channels of one rate with channels=[...]",
                            None if path is None else str(path))
    return rates.pop()


def is_episodic(n_segments: int, episodic: bool | None, path: Any) -> bool:
    """Sweeps or continuous: by default a file with several segments is episodic."""
    is_ep = (n_segments > 1) if episodic is None else bool(episodic)
    if not is_ep and n_segments > 1:
        raise KetephysError(f"episodic=False but the file has {n_segments} segments",
                            None if path is None else str(path))
    return is_ep


def default_ch_type(base_unit: str) -> str:
    """The channel type of a Neo channel in ``base_unit``: A -> ``im``, V -> ``field``."""
    return "im" if base_unit == "A" else ("field" if base_unit == "V" else "misc")


def _seg_channels(seg: Any) -> list[tuple[str, Any, int]]:
    out = []
    for sig in seg.analogsignals:
        n = sig.shape[1]
        names = None
        ann = getattr(sig, "array_annotations", {}) or {}
        if "channel_names" in ann and len(ann["channel_names"]) == n:
            names = [str(x) for x in ann["channel_names"]]
        if names is None:
            base = sig.name or f"ch{len(out)}"
            names = [str(base)] if n == 1 else [f"{base}_{k}" for k in range(n)]
        for k in range(n):
            out.append((names[k], sig, k))
    return out


def _unique(names: list[str]) -> list[str]:
    """Duplicate names made unique deterministically (``x``, ``x_1``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _segment_events(seg: Any, s: int, t0: float, offset: float, is_ep: bool) -> list[dict]:
    events = []
    for container in (seg.events, seg.epochs):
        for obj in container:
            times = obj.times.rescale("s").magnitude
            durs = (obj.durations.rescale("s").magnitude if hasattr(obj, "durations")
                    else np.zeros(len(times)))
            labels = obj.labels if len(obj.labels) == len(times) else [
                obj.name or "event"] * len(times)
            for t, d, lab in zip(times, durs, labels):
                events.append({"onset": float(t) - offset, "duration": float(d),
                               "description": str(lab), "sweep": s if is_ep else pd.NA})
    return events


def _units_and_types(channels: list[tuple[str, Any, int]], units: dict[str, str],
                     ch_types: dict[str, str] | None, path: str | None
                     ) -> tuple[list[str], list[float], list[str]]:
    """SI units, scale factors and channel types of ``(name, signal, column)`` channels."""
    si_units, factors, types = [], [], []
    for name, sig, _ in channels:
        if name in units:
            base, factor = si_scale(units[name], path)
        else:
            base, factor = neo_unit_to_si(sig.units, path)
        si_units.append(base)
        factors.append(factor)
        t = (ch_types or {}).get(name) or (sig.annotations.get("ch_type") if hasattr(
            sig, "annotations") else None)
        types.append(t if t is not None else default_ch_type(base))
    return si_units, factors, types


def _segment_samples(channels: list[tuple[str, Any, int]], factors: list[float], s: int,
                     path: str | None) -> np.ndarray:
    """``(n_channels, n_times)`` SI samples of one segment's channels."""
    cols = [np.asarray(sig.magnitude[:, k], dtype=float) * factor
            for (_, sig, k), factor in zip(channels, factors)]
    if len({c.size for c in cols}) != 1:
        raise KetephysError(f"segment {s}: channels differ in length", path)
    return np.vstack(cols)


def block_parts(block: Any, units: dict[str, str] | None = None,
                channels: Sequence[str] | None = None,
                ch_types: dict[str, str] | None = None, episodic: bool | None = None,
                path: str | None = None) -> dict[str, Any]:
    """The keywords of :class:`~ketephys.recording.Recording` (``data``, ``sfreq``,
    ``ch_names``, ``ch_types``, ``units``, ``sweep_starts``, ``events``) for a
    ``neo.Block``; see :meth:`Recording.from_neo <ketephys.recording.Recording.from_neo>`
    for the parameters."""
    units = dict(units or {})
    segments = list(block.segments)
    if not segments:
        raise KetephysError("the file holds no recording segment", path)
    first = _seg_channels(segments[0])
    if not first:
        raise KetephysError("the file holds no analog signal", path)
    names = _unique([name for name, _, _ in first])
    keep = [names.index(c) for c in select_channels(names, channels, path)]
    sfreq = one_rate({float(first[i][1].sampling_rate.rescale("Hz").magnitude)
                      for i in keep}, path)
    si_units, factors, types = _units_and_types([first[i] for i in keep], units, ch_types,
                                                path)
    is_ep = is_episodic(len(segments), episodic, path)
    sweeps, starts, events = [], [], []
    n_t = None
    for s, seg in enumerate(segments):
        chans = _seg_channels(seg)
        if len(chans) != len(first):
            raise KetephysError(
                f"segment {s} has {len(chans)} channels, segment 0 has {len(first)}", path)
        samples = _segment_samples([chans[i] for i in keep], factors, s, path)
        length = samples.shape[1]
        if n_t is None:
            n_t = length
        elif length != n_t:
            if not is_ep:
                raise KetephysError("segments differ in length", path)
            n_t = min(n_t, length)
        sweeps.append(samples)
        t0 = float(chans[keep[0]][1].t_start.rescale("s").magnitude)
        starts.append(t0)
        events += _segment_events(seg, s, t0, t0 if is_ep else starts[0], is_ep)
    if is_ep:
        data = np.stack([sw[:, :n_t] for sw in sweeps])
        sweep_starts: np.ndarray | None = np.asarray(starts)
    else:
        data = sweeps[0]
        sweep_starts = None
    return {"data": data, "sfreq": sfreq, "ch_names": [names[i] for i in keep],
            "ch_types": types, "units": si_units, "sweep_starts": sweep_starts,
            "events": pd.DataFrame(events) if events else None}


def neo_unit_to_si(quantity: Any, path: str | None) -> tuple[str, float]:
    """SI base unit and scale factor of a ``quantities`` unit (dimensionless -> "")."""
    import quantities as pq

    text = quantity.dimensionality.string
    if text == "dimensionless":
        return "", float(quantity.simplified.magnitude)
    try:
        return si_scale(text, path)
    except KetephysError:
        pass
    for base, unit in (("V", pq.V), ("A", pq.A), ("Ohm", pq.ohm)):
        try:
            return base, float(quantity.rescale(unit).magnitude)
        except ValueError:
            continue
    raise UnitError(f"unit {text!r} cannot be converted to V, A or Ohm", path)


def neo_parts(block: Any, units: dict[str, str] | None = None,
              channels: Sequence[str] | None = None, ch_types: dict[str, str] | None = None,
              meta: StudyMeta | dict | None = None, source: Source | None = None,
              episodic: bool | None = None, modality: str | None = None) -> dict[str, Any]:
    """:func:`block_parts` plus ``meta``, ``source`` and ``modality``, restoring what
    :func:`to_neo` stored in the block (source, metadata, channel types, modality); see
    :meth:`Recording.from_neo <ketephys.recording.Recording.from_neo>` for the
    parameters."""
    path = None if source is None else source.path
    parts = block_parts(block, units=units, channels=channels, ch_types=ch_types,
                        episodic=episodic, path=path)
    stored = read_note(block.annotations.get("ketephys") if hasattr(block, "annotations")
                       else None)
    if source is None:
        source = Source(*stored["source"]) if "source" in stored else Source(
            None, "neo", "ketephys.Recording.from_neo")
    merged = StudyMeta.from_sources([("keyword", meta), ("stored", stored.get("meta"))],
                                    path=source.path)
    if ("ch_types" in stored and len(stored["ch_types"]) == len(parts["ch_names"])
            and not ch_types):
        parts["ch_types"] = stored["ch_types"]
    return {**parts, "meta": merged, "source": source,
            "modality": modality or stored.get("modality")}


def _segment_epoch(events: pd.DataFrame, start: float) -> Any:
    """The events of one segment as a ``neo.Epoch`` (times from the recording start)."""
    import neo
    import quantities as pq

    return neo.Epoch(times=(events["onset"].to_numpy(float) + start) * pq.s,
                     durations=events["duration"].to_numpy(float) * pq.s,
                     labels=events["description"].to_numpy(str), name="ketephys events")


def to_neo(rec: Any) -> Any:
    """Recording ``rec`` as a ``neo.Block``: one Segment per sweep (one for continuous
    data), one AnalogSignal per channel with its unit and ``ch_type`` annotation, the
    events of each segment as a ``neo.Epoch``, the ketephys note in
    ``block.annotations["ketephys"]``."""
    import os

    import neo
    import quantities as pq

    block = neo.Block(name=os.path.basename(rec.source.path or "recording"))
    block.annotate(ketephys=write_note(rec, with_events=False))
    data = rec.data if rec.is_episodic else rec.data[np.newaxis]
    starts = rec.sweep_starts if rec.is_episodic else np.zeros(1)
    ev = rec.events
    for s in range(data.shape[0]):
        seg = neo.Segment(name=f"sweep {s}", index=s)
        for c, name in enumerate(rec.ch_names):
            unit = rec.units[c] or "dimensionless"
            unit = {"Ohm": "ohm"}.get(unit, unit)
            sig = neo.AnalogSignal(data[s, c][:, np.newaxis], units=unit,
                                   sampling_rate=rec.sfreq * pq.Hz,
                                   t_start=float(starts[s]) * pq.s, name=name)
            sig.annotate(ch_type=rec.ch_types[c])
            seg.analogsignals.append(sig)
        rows = ev[ev["sweep"] == s] if rec.is_episodic else ev
        if len(rows):
            seg.epochs.append(_segment_epoch(rows, float(starts[s])))
        block.segments.append(seg)
    return block
