"""Ground-truth generators for every modality and for whole studies.

Each generator is seeded and returns ``(Recording, truth)`` (or, for study-level markers,
``(table, truth)``), where ``truth`` is exactly what was simulated, so tests, tutorials and
the demo can check analysers against known values.

==================================  ===================================================
name                                what it simulates
==================================  ===================================================
:func:`simulate_eeg`                scalp EEG: 1/f background (optional knee), gamma bump,
                                    theta shared across channels with a set coherence, line noise
:func:`simulate_lfp`                rodent LFP preset (theta 6-10 Hz, ketamine HFO 110-160 Hz)
:func:`simulate_eeg_to_npy`         a long EEG/LFP written chunk by chunk to ``.npy`` + sidecar
:func:`iter_eeg_chunks`             the same, as a generator of blocks
:func:`simulate_tms_eeg`            TMS-EEG trials: pulse and decay artifacts, TEP components
:func:`simulate_fepsp_experiment`   field-EPSP sweeps with an LTP induction
:func:`simulate_fepsp_io`           input-output series: fEPSPs at increasing stimulus intensity
:func:`simulate_patch`              whole-cell EPSC/EPSP trains with a test pulse
:func:`simulate_marker_study`       per-visit marker values following a decay model per region
:func:`simulate_study`              a whole multi-modal study written to files plus a manifest
==================================  ===================================================
"""

from __future__ import annotations

from .._lazy import lazy_attributes

_WHERE = {
    "simulate_eeg": "eeg",
    "simulate_lfp": "eeg",
    "simulate_eeg_to_npy": "eeg",
    "iter_eeg_chunks": "eeg",
    "EEGTruth": "eeg",
    "simulate_tms_eeg": "tms",
    "TMSTruth": "tms",
    "TEPComponent": "tms",
    "component_waveform": "tms",
    "simulate_fepsp_experiment": "fepsp",
    "simulate_fepsp_io": "fepsp",
    "simulate_patch": "patch",
    "simulate_marker_study": "markers",
    "simulate_study": "study",
}

__all__ = sorted(_WHERE)


# Generators load on first use: each pulls in its own heavy dependencies.
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
