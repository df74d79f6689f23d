"""The settings of the synaptic analyser, declared once (:func:`synaptic_settings_model`).

The fEPSP, LTP and patch-clamp options are the keyword parameters of
:func:`~ketephys.synaptic.fepsp`, :func:`~ketephys.synaptic.ltp` and
:func:`~ketephys.synaptic.psc`: the model is built from those signatures
(:func:`~ketephys.settings.model_from_signature`), so each function is the one
declaration of its options, and ``analyse`` passes each function exactly its own.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from ..settings import AnalyserSettings, model_from_signature

__all__ = ["synaptic_settings_model", "settings_for"]

#: Parameters of ltp() that are not settings of a batch (per-file inputs).
_NOT_SETTINGS = ("clocks",)


@cache
def _parts() -> dict[str, type[AnalyserSettings]]:
    from .field import fepsp
    from .potentiation import ltp
    from .wholecell import psc

    return {"fepsp": model_from_signature("FepspOptions", fepsp),
            "ltp": model_from_signature("LtpOptions", ltp, exclude=_NOT_SETTINGS),
            "psc": model_from_signature("PscOptions", psc)}


@cache
def synaptic_settings_model() -> type[AnalyserSettings]:
    """Settings model of :func:`ketephys.synaptic.analyse` (the batch's ``synaptic``).

    Fields: ``kind`` (``"auto"``, ``"fepsp"``, ``"psc"``) and every keyword of
    ``fepsp``, ``ltp`` and ``psc``; a name they share with different defaults defaults to
    ``None``, meaning each function's own default.
    """
    from pydantic import create_model

    fields: dict[str, Any] = {"kind": (Literal["auto", "fepsp", "psc"], "auto")}
    for part in _parts().values():
        for name, info in part.model_fields.items():
            if name not in fields:
                fields[name] = (info.annotation, info.default)
            elif fields[name][1] != info.default:  # shared name, other default: None
                fields[name] = (fields[name][0] | None, None)  # = each function's own
    return create_model("SynapticAnalysis", __base__=AnalyserSettings, **fields)


def settings_for(part: str, settings: AnalyserSettings) -> dict[str, Any]:
    """The keywords of one measuring function among validated settings.

    Parameters
    ----------
    part : {"fepsp", "ltp", "psc"}
        The function.
    settings : AnalyserSettings
        Settings of :func:`synaptic_settings_model`.

    Returns
    -------
    dict
        The settings that are keywords of ``part``; a shared name left at None (meaning
        each function's own default) is left out.
    """
    names = _parts()[part].model_fields
    # None for a name whose default is not None means "this function's own default"
    return {k: v for k, v in settings.model_dump().items()
            if k in names and not (v is None and names[k].default is not None)}
