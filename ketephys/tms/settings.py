"""The settings of the TMS-EEG analyser, declared once (:class:`TMSAnalysis`).

The options passed through to :func:`~ketephys.tms.clean`, :func:`~ketephys.tms.tep` and
:func:`~ketephys.tms.find_tms_pulses` are models built from those functions' signatures
(:func:`~ketephys.settings.model_from_signature`), so each signature is the one
declaration of its options.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import Field, field_validator

from ..settings import AnalyserSettings, model_from_signature, settings_problems

__all__ = ["TMSAnalysis", "clean_options_model", "tep_options_model", "find_options_model"]


@cache
def clean_options_model() -> type[AnalyserSettings]:
    """Settings model of :func:`ketephys.tms.clean` (its keyword parameters)."""
    from .clean import clean

    return model_from_signature("CleanOptions", clean, exclude=("find_options",))


@cache
def tep_options_model() -> type[AnalyserSettings]:
    """Settings model of :func:`ketephys.tms.tep` (defaults as the batch uses them:
    ``tmin=-0.5``, ``tmax=0.5``, ``baseline=(-0.5, -0.01)``)."""
    from .tep import tep

    return model_from_signature("TepOptions", tep)


@cache
def find_options_model() -> type[AnalyserSettings]:
    """Settings model of :func:`ketephys.tms.find_tms_pulses`."""
    from .pulses import find_tms_pulses

    return model_from_signature("FindOptions", find_tms_pulses)


class TMSAnalysis(AnalyserSettings):
    """Settings of :func:`ketephys.tms.analyse` (and of the batch's ``tms``).

    ``clean_options``, ``tep_options`` and ``find_options`` take the keywords of
    :func:`~ketephys.tms.clean`, :func:`~ketephys.tms.tep` and
    :func:`~ketephys.tms.find_tms_pulses`; a misspelled one is an error with a suggestion.

    Attributes
    ----------
    clean_options : dict
        Keywords of :func:`ketephys.tms.clean` (validated against its signature, every
        default filled in).
    tep_options : dict
        Keywords of :func:`ketephys.tms.tep` (as ``clean_options``).
    find_options : dict
        Keywords of :func:`ketephys.tms.find_tms_pulses`, used when no pulse is in the
        events.
    peak_channels : list of str or None
        Channels reported for the peak-to-peak measures (default all).
    roi : list of str or None
        Region of interest (shortcut for ``tep_options["roi"]``).
    """

    clean_options: dict[str, Any] = Field(default_factory=dict, description="Keywords of "
                                          "ketephys.tms.clean.")
    tep_options: dict[str, Any] = Field(default_factory=dict, description="Keywords of "
                                        "ketephys.tms.tep.")
    find_options: dict[str, Any] = Field(default_factory=dict, description="Keywords of "
                                         "ketephys.tms.find_tms_pulses (when no pulse is "
                                         "in the events).")
    peak_channels: list[str] | None = Field(None, description="Channels reported for the "
                                            "peak-to-peak measures (default all).")
    roi: list[str] | None = Field(None, description="Region of interest (shortcut for "
                                  "tep_options.roi).")

    @field_validator("clean_options", "tep_options", "find_options", mode="after")
    @classmethod
    def _options(cls, value: dict[str, Any], info: Any) -> dict[str, Any]:
        # validated against their functions' signatures, every default filled in (so the
        # hash does not depend on what was written out)
        model = _OPTION_MODELS[info.field_name]()
        problems = settings_problems(model, value, "")
        if problems:
            raise ValueError("; ".join(problems))
        return model.resolve(value).to_dict()


_OPTION_MODELS = {"clean_options": clean_options_model, "tep_options": tep_options_model,
                  "find_options": find_options_model}
