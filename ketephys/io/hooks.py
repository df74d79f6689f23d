"""Post-read hooks: the one plug-in registry through which :func:`ketephys.io.read` lets a
layer above the readers finish a :class:`~ketephys.recording.Recording` of a modality.

``read(path, modality=m, tms_options=...)`` ends by calling the hook registered for ``m``
(if any) as ``hook(rec, **options)``. The built-in entry marks TMS pulses
(:func:`ketephys.tms.mark_tms_pulses`) when ``modality="tms-eeg"``: pulse detection is an
analysis, so it lives in :mod:`ketephys.tms`, and the reader must not import it.

Entries are ``"package.module:function"`` strings resolved when first used, like a package
entry point: the readers never import the analysis layer, and ``read`` gives the same
Recording whatever was imported before it (a pipeline worker reads before it imports any
analyser). Another package may register its own hook with :func:`register_post_read`.
The import-graph test (``tests/test_architecture.py``) sees only real ``import``
statements, so entries here are the documented exception to the layer rule.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

__all__ = ["POST_READ_HOOKS", "register_post_read", "post_read_hook"]

#: modality -> ``"package.module:function"`` (or a callable) run on every Recording read
#: with that modality.
POST_READ_HOOKS: dict[str, str | Callable[..., Any]] = {
    "tms-eeg": "ketephys.tms.pulses:mark_tms_pulses",
}


def register_post_read(modality: str, hook: str | Callable[..., Any]) -> None:
    """Run ``hook(rec, **options)`` on every Recording read with ``modality``.

    Parameters
    ----------
    modality : str
        The ``modality=`` of :func:`ketephys.io.read` the hook serves.
    hook : str or callable
        A callable, or a ``"package.module:function"`` string imported on first use. It
        replaces any hook registered before for that modality.
    """
    POST_READ_HOOKS[modality] = hook


def post_read_hook(modality: str | None) -> Callable[..., Any] | None:
    """The hook registered for a modality, imported now.

    Parameters
    ----------
    modality : str or None
        The modality read.

    Returns
    -------
    callable or None
        ``hook(rec, **options) -> Recording``, or None when none is registered (or
        ``modality`` is None).

    Raises
    ------
    ImportError
        When the hook's module cannot be imported.
    """
    hook = POST_READ_HOOKS.get(modality) if modality is not None else None
    if hook is None or callable(hook):
        return hook
    module, _, name = hook.partition(":")
    obj: Any = import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj
