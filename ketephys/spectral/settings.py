"""The settings of the spectral analyser, declared once (:class:`SpectralAnalysis`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from .._docs import fill_doc
from ..errors import AnalysisError
from ..settings import AnalyserSettings
from .bands import resolve_band

__all__ = ["SpectralAnalysis"]

Band = str | tuple[float, float]


def _check_band(band: Any) -> Any:
    """A band name of the table (did-you-mean on a typo) or ``(lo, hi)`` in Hz."""
    try:
        name, lo, hi = resolve_band(band)
    except AnalysisError as err:
        raise ValueError(err.detail) from err
    return name if isinstance(band, str) else (lo, hi)


@fill_doc
class SpectralAnalysis(AnalyserSettings):
    """Settings of :func:`ketephys.spectral.analyse` (and of the batch's ``spectral``).

    Band names are resolved per modality (:mod:`ketephys.spectral.bands`): ``"theta"``
    is 4-8 Hz on EEG and 6-10 Hz on rodent LFP.

    Attributes
    ----------
    %(bands)s
        Default ``["gamma"]``.
    %(kinds)s
        Default ``["absolute", "relative"]`` (``"db"`` needs a baseline recording).
    %(aperiodic)s
        Default ``"fixed"``.
    %(coherence_band)s
        Default ``"theta"``.
    %(pairs)s
    measure : str or list of str
        Coherence measure(s): ``"msc"`` (default), ``"coh"``, ``"imcoh"``, ``"wpli"``,
        ``"plv"``.
    %(method)s
    %(seg_len)s
    %(overlap)s
    window : str
        Welch taper, a ``scipy.signal.get_window`` name (default ``"hann"``).
    %(bandwidth)s
    %(line_freq)s
        Default ``"auto"``.
    %(total_band)s
    %(fit_range)s
    %(picks)s
    %(reject)s
    %(reject_by_annotation)s
    %(precision)s
    """

    bands: list[Band] = Field(["gamma"], description="Band-power bands (names or [lo, hi] "
                              "Hz).")
    kinds: list[Literal["absolute", "relative", "db"]] = Field(
        ["absolute", "relative"], description="Band-power kinds (db needs a baseline).")
    aperiodic: Literal["fixed", "knee", "auto"] | None = Field(
        "fixed", description="specparam aperiodic mode for the corrected band power; null "
                             "skips it.")
    coherence_band: Band | None = Field("theta", description="Coherence band; null skips "
                                        "coherence.")
    pairs: Any = Field("all", description="'all', a list of [a, b] pairs or {region: "
                       "[channels]}.")
    measure: Literal["msc", "coh", "imcoh", "wpli", "plv"] | list[
        Literal["msc", "coh", "imcoh", "wpli", "plv"]] = Field(
        "msc", description="Coherence measure(s).")
    method: Literal["welch", "multitaper"] = Field("welch", description="PSD estimator.")
    seg_len: float | None = Field(2.0, gt=0, description="Segment length (s); null: one "
                                  "segment.")
    overlap: float = Field(0.5, ge=0, lt=1, description="Segment overlap (fraction).")
    window: str = Field("hann", description="Welch taper (scipy.signal.get_window name).")
    bandwidth: float | None = Field(None, gt=0, description="Multitaper bandwidth (Hz).")
    line_freq: float | Literal["auto"] | None = Field(
        "auto", description="Line noise interpolated before the aperiodic fit.")
    total_band: tuple[float, float] | None = Field(None, description="Relative-power "
                                                   "denominator band (Hz).")
    fit_range: tuple[float, float] | None = Field(None, description="Aperiodic fit range "
                                                  "(Hz).")
    picks: Any = Field(None, description="Channels (default: the modality's signal "
                       "channels).")
    reject: float | None = Field(None, gt=0, description="Peak-to-peak rejection of a "
                                 "segment (V).")
    reject_by_annotation: bool = Field(True, description="Skip segments overlapping BAD_ "
                                       "annotations.")
    precision: Literal["float64", "float32"] = Field("float64", description="FFT precision.")

    @field_validator("bands", mode="before")
    @classmethod
    def _bands(cls, value: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, (list, tuple)) and len(value) == 2
                                      and all(isinstance(v, (int, float)) for v in value)):
            value = [value]
        return [_check_band(b) for b in value]

    @field_validator("coherence_band", mode="before")
    @classmethod
    def _coherence_band(cls, value: Any) -> Any:
        return None if value is None else _check_band(value)

    def measures(self) -> list[str]:
        """The coherence measures as a list.

        Returns
        -------
        list of str
            ``measure`` as a list (one item when it is a string).
        """
        return [self.measure] if isinstance(self.measure, str) else list(self.measure)
