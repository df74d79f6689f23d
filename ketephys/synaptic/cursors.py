"""Fixed measurement cursors: times found once per pathway on the mean sweep.

With ``fepsp(..., cursors="fixed")`` the measurement times (baseline window, fibre-volley
peaks and trough, slope window, amplitude point) are found once per *cursor group* and
stimulus, on the mean of that group's sweeps (``cursor_sweeps``, e.g. the baseline
sweeps before an induction), and every sweep of the group is then measured at exactly
those times, relative to its own stimulus -- the way brainwash, WinLTP's Begin -> End
slope and Clampfit cursors work. Per-sweep placement (``cursors="per-sweep"``) re-finds
them on every sweep. Fixed are: the slope window, the amplitude span (the run of samples
about the mean's peak within ``amplitude_plateau`` of it, or the ``peak_smooth`` width) and,
for brainwash's definitions, the volley trough; ketephys's peak-trough-peak volley (a QC
measure of the stimulation) and the population spike stay found on each sweep, because a
fixed second volley flank is swept over by the foot of a growing fEPSP. The baseline window
is the same relative to the stimulus in both modes.

Cursor groups (``cursor_groups``): ``"auto"`` splits even and odd sweeps (two alternating
pathways) when their stimulus-1 amplitudes or slopes differ (Welch t-test p < 0.001 and
more than 10 % apart, the rule :func:`~ketephys.synaptic.ltp` uses to find two pathways in
one channel), else one group; ``"all"``; ``"parity"``; or a label per sweep (sequence or
mapping sweep -> label), which is how :func:`~ketephys.synaptic.ltp` passes its pathways.

The cursor table (:data:`CURSOR_COLUMNS`, one row per channel, group and stimulus, times in
s from the stimulus) is ``table.attrs["cursors"]``; passing it back as ``cursors=`` measures
another recording (a later file of the same experiment) at the same times.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from ..errors import AnalysisError
from .slope import fit_line

__all__ = ["CURSOR_COLUMNS", "group_labels", "welch_differs", "measure_at_cursors", "cursor_row", "CURSOR_OFFSETS", "plateau_span"]

#: Cursor offsets (samples from the stimulus) kept per group and stimulus.
CURSOR_OFFSETS = ("baseline_start", "baseline_stop", "volley_peak1", "volley_trough",
                  "volley_peak2", "slope_start", "slope_stop", "amplitude_time",
                  "amplitude_start", "amplitude_stop")

#: Columns of a cursor table (times in s from the stimulus; ``*_stop`` are the last samples
#: used; the amplitude is the mean from ``amplitude_start`` to ``amplitude_stop`` about the
#: peak ``amplitude_time``; volley times NaN when no volley was found).
CURSOR_COLUMNS = ("channel", "group", "stimulus", "n_sweeps", "polarity", *CURSOR_OFFSETS,
                  "definitions")


def welch_differs(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two groups of values differ (for ``cursor_groups="auto"``).

    Parameters
    ----------
    a, b : ndarray
        The values of each group (non-finite values are left out).

    Returns
    -------
    bool
        True when Welch's t-test gives p < 0.001 and the means are more than 10 %
        apart (False with fewer than 3 finite values in a group).
    """
    from scipy import stats

    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 3 or b.size < 3:
        return False
    with warnings.catch_warnings():  # identical values (noiseless data): p is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        p = stats.ttest_ind(a, b, equal_var=False).pvalue
    rel = abs(a.mean() - b.mean()) / max(abs(a.mean()), abs(b.mean()))
    return bool(p < 1e-3 and rel > 0.1)


def group_labels(spec: Any, sweeps: np.ndarray, measures: Mapping[str, np.ndarray]
                 ) -> dict[int, str]:
    """Cursor-group label of every sweep.

    Parameters
    ----------
    spec : "auto", "all", "parity", sequence or mapping
        See the module docstring; a sequence is indexed by sweep number.
    sweeps : ndarray
        The sweep numbers (of stimulus 1).
    measures : mapping
        Per-sweep stimulus-1 measures aligned with ``sweeps`` (used by ``"auto"``).

    Returns
    -------
    dict of int to str
        Sweep number -> its group label (``"all"``, ``"even"``/``"odd"``, the given
        labels, or ``"unassigned"`` for a sweep the sequence or mapping does not cover).

    Raises
    ------
    SettingsError
        A string other than ``"auto"``, ``"all"`` or ``"parity"``.
    AnalysisError
        A value that is neither a string, a sequence nor a mapping.
    """
    sweeps = np.asarray(sweeps, int)
    if isinstance(spec, str):
        check_option("cursor_groups", spec, ("auto", "all", "parity"))
        if spec == "all":
            return {int(s): "all" for s in sweeps}
        if spec == "auto":
            even = sweeps % 2 == 0
            split = any(welch_differs(np.asarray(v, float)[even], np.asarray(v, float)[~even])
                        for v in measures.values())
            spec = "parity" if split else "all"
            if spec == "all":
                return {int(s): "all" for s in sweeps}
        return {int(s): ("even" if s % 2 == 0 else "odd") for s in sweeps}
    if isinstance(spec, Mapping):
        return {int(s): str(spec.get(int(s), spec.get(str(s), "unassigned"))) for s in sweeps}
    if isinstance(spec, Sequence):
        labels = list(spec)
        return {int(s): str(labels[s]) if s < len(labels) else "unassigned" for s in sweeps}
    raise AnalysisError(f"cursor_groups must be 'auto', 'all', 'parity', a sequence or a "
                        f"mapping of labels, got {spec!r}")


def cursor_row(offsets: Mapping[str, float], sfreq: float, **info: Any) -> dict[str, Any]:
    """A cursor-table row.

    Parameters
    ----------
    offsets : mapping of str to float
        Sample offsets from the stimulus of every :data:`CURSOR_OFFSETS` key.
    sfreq : float
        Sampling rate (Hz).
    **info
        Identifying columns (channel, group, stimulus...).

    Returns
    -------
    dict
        ``info`` and the offsets in s from the stimulus.
    """
    row = dict(info)
    row.update({k: float(offsets[k]) / sfreq for k in CURSOR_OFFSETS})
    return row


def measure_at_cursors(y: np.ndarray, dev: np.ndarray, sfreq: float,
                       i_stim: int, off: Mapping[str, float], polarity: int, base: float,
                       volley_reference: str, what: str = "all") -> dict[str, Any]:
    """Measures of one sweep at fixed cursor offsets.

    Parameters
    ----------
    y : ndarray
        The sweep (V).
    dev : ndarray
        The sweep in the response's direction about its baseline.
    sfreq : float
        Sampling rate (Hz).
    i_stim : int
        Stimulus sample.
    off : mapping of str to float
        Cursor offsets (samples from ``i_stim``) of every :data:`CURSOR_OFFSETS` key.
    polarity : {-1, 1}
        Direction of the response.
    base : float
        Baseline level (V), for the onset latency.
    volley_reference : {"flanks", "baseline"}
        ``"baseline"``: the volley is the sample at the fixed trough time (brainwash);
        otherwise the volley fields are left to the per-sweep measure.
    what : {"all", "slope"}
        ``"slope"`` returns only the slope fields.

    Returns
    -------
    dict
        ``slope``, ``slope_se``, ``slope_start``, ``slope_stop``, ``slope_n``,
        ``onset_latency`` and, with ``what="all"``, ``amplitude``, ``peak_latency``
        (and the volley with ``volley_reference="baseline"``).
    """
    n = y.size

    def at(key: str) -> int:
        return min(max(i_stim + int(off[key]), 0), n - 1)

    a, b = at("slope_start"), at("slope_stop")
    m, c, se = fit_line(np.arange(a, b + 1) / sfreq, y[a:b + 1]) if b > a else (
        np.nan, np.nan, np.nan)
    onset = (base - c) / m if np.isfinite(m) and m != 0 else float("nan")
    out: dict[str, Any] = dict(slope=m, slope_se=se, slope_start=a / sfreq,
                               slope_stop=b / sfreq, slope_n=b - a + 1,
                               onset_latency=onset - i_stim / sfreq)
    if what == "slope":
        return out
    ip, a0, a1 = at("amplitude_time"), at("amplitude_start"), at("amplitude_stop")
    out["amplitude"] = polarity * float(np.add.reduce(dev[a0:a1 + 1]) / max(a1 + 1 - a0, 1))
    out["peak_latency"] = (ip - i_stim) / sfreq
    if volley_reference == "baseline":
        # brainwash: the sample at the fixed trough time against the baseline. The
        # peak-trough-peak volley (ketephys) stays found on each sweep: a fixed second
        # flank is swept over by the foot of a growing fEPSP (potentiation, drift), which
        # would read as a shrinking volley (-6 % at 3x the baseline response, simulated)
        vol = out["volley_latency"] = float("nan")
        if np.isfinite(off["volley_trough"]):
            iv = at("volley_trough")
            vol = polarity * float(dev[iv])
            out["volley_latency"] = (iv - i_stim) / sfreq
        out["volley_amplitude"] = vol
    return out


def cursor_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The cursor rows as a table with :data:`CURSOR_COLUMNS`."""
    return pd.DataFrame(rows, columns=list(CURSOR_COLUMNS))


def plateau_span(dev: np.ndarray, ip: int, fraction: float, lo: int, hi: int
                 ) -> tuple[int, int]:
    """The run of samples about a peak where the response stays near its peak value.

    Parameters
    ----------
    dev : ndarray
        The sweep in the response's direction.
    ip : int
        Peak sample.
    fraction : float
        The run keeps samples within this fraction of ``dev[ip]``.
    lo, hi : int
        Search bounds (``lo`` to ``hi - 1``).

    Returns
    -------
    (int, int)
        First and last sample of the contiguous run.
    """
    level = (1.0 - fraction) * dev[ip]
    a = ip
    while a - 1 >= lo and dev[a - 1] >= level:
        a -= 1
    b = ip
    while b + 1 < hi and dev[b + 1] >= level:
        b += 1
    return a, b
