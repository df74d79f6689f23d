"""Named frequency bands (Hz, edges inclusive) and band resolution."""

from __future__ import annotations

from ..errors import AnalysisError

__all__ = ["BANDS", "resolve_band"]

#: Band presets in Hz; any ``(lo, hi)`` tuple works too.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "theta_rodent": (6.0, 10.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 80.0),
    "low_gamma": (30.0, 45.0),
    "high_gamma": (60.0, 100.0),
    "hfo": (110.0, 160.0),
}


def resolve_band(band: str | tuple[float, float]) -> tuple[str, float, float]:
    """Return ``(name, lo, hi)`` for a preset name or a ``(lo, hi)`` tuple.

    A tuple is named ``"{lo:g}-{hi:g}Hz"``.
    """
    if isinstance(band, str):
        key = band.lower().replace(" ", "_")
        if key not in BANDS:
            raise AnalysisError(f"unknown band {band!r}; presets are {sorted(BANDS)} "
                                "or give (lo, hi) in Hz")
        lo, hi = BANDS[key]
        return key, lo, hi
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError):
        raise AnalysisError(f"band must be a preset name or (lo, hi) in Hz, got {band!r}") \
            from None
    if not 0 <= lo <= hi:
        raise AnalysisError(f"band needs 0 <= lo <= hi, got ({lo}, {hi})")
    return f"{lo:g}-{hi:g}Hz", lo, hi
