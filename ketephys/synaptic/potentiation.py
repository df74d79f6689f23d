"""Long-term potentiation from fEPSP sweeps: time course, magnitude, PTP, decay and QC.

Conventions (:ref:`science`): time from real sweep start times, several files of one experiment
joined on their recording clocks with gaps kept; per-sweep values normalised to the mean of
the last ``baseline_minutes`` before induction; LTP magnitude = mean % of baseline at
``window_minutes`` after induction; post-tetanic potentiation (PTP) = mean % in
``ptp_minutes``. The 95 % CI of a magnitude is the delta-method CI of the ratio of the two
means (window / baseline) over sweeps, with a t quantile.

Induction (``induction="auto"``): sweeps holding more stimuli than most sweeps (a recorded
tetanus or theta burst) mark it at their first stimulus and are left out of the time
course; otherwise the longest pause between sweeps (more than 2.5 typical intervals) marks
it at the time the next sweep would have come.

Pathways (``pathways="auto"``): with several channels where the channel with the largest
response (amplitude / noise) follows the sweep parity in more than 90 % of sweeps
(alternating stimulation, one electrode per pathway), the pathway of a sweep is the channel
that responds on sweeps of its parity, and only that channel's row is used
(``"responding_channel"``); with several channels otherwise, each channel is a pathway;
with one channel, even and odd sweeps are two pathways when their baseline measure or
amplitude differ (Welch t-test p < 0.001 and more than 10 % apart). With an induction, the pathway with the
largest magnitude is the ``test`` pathway and the others ``control``.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from .._docs import fill_doc
from .._result import ResultMixin, compact_recording
from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from ..settings import check_keywords
from .cursors import welch_differs
from .field import fepsp
from .presets import CURSOR_MODES

__all__ = ["ltp", "LTPResult", "join_tables", "find_induction"]

logger = logging.getLogger(__name__)

_CLOCK_KEYS = ("rec_datetime", "recording_start", "start_time", "meas_date")
_NEEDED = ("sweep", "stimulus", "sweep_start", "time", "channel", "flags", "slope",
           "amplitude", "noise_sd", "volley_amplitude")


@fill_doc
@dataclass(init=False, repr=False)
class LTPResult(ResultMixin):
    """What :func:`ltp` found.

    The result surface is shared with the other results: :meth:`summary`,
    :meth:`magnitude`, :meth:`get_data`, :meth:`to_data_frame`, :meth:`plot`,
    :meth:`plot_sweep`, :meth:`copy` and a short repr.

    Attributes
    ----------
    sweeps : DataFrame
        One row per sweep used: ``clock`` (s on the joined clock), ``time_min`` (minutes from
        induction), ``pathway``, ``channel``, ``sweep``, ``recording``, ``value`` (the
        measure, V/s or V), ``pct`` (% of the pathway's baseline), ``volley_amplitude``.
    time_course : DataFrame
        Per pathway and ``bin_minutes`` bin: ``bin_start_min``, ``bin_centre_min``,
        ``mean_pct``, ``sem_pct``, ``n``; bins without sweeps (gaps) are absent.
    pathways : DataFrame
        One row per pathway (what :meth:`summary` returns; the constructor takes it as
        ``summary=``): ``role``, ``ltp_magnitude_pct``, ``ltp_ci_low``,
        ``ltp_ci_high``, ``ptp_pct``, ``baseline_mean`` (measure units),
        ``baseline_drift_pct_per_min`` (with ``_se``), ``volley_change_pct``,
        ``decay_slope_pct_per_h``, ``decay_tau_min`` (with ``_se``), ``n_baseline``,
        ``n_window``, ``flags``.
    induction_time : float or None
        Seconds on the joined clock.
    induction_source : str
        ``"given"``, ``"train_sweeps"``, ``"gap"`` or ``"none"``.
    measure, unit : str
    settings : dict
    recordings : list of RecordingInfo
        Metadata and source of the recordings the table came from (no samples).
    cursors : DataFrame or None
        With fixed cursors, the measurement times of every pathway and stimulus
        (:data:`~ketephys.synaptic.cursors.CURSOR_COLUMNS`, s from the stimulus); also in
        ``settings["cursor_times"]``, so they enter the feature rows' settings hash.
    """

    sweeps: pd.DataFrame
    time_course: pd.DataFrame
    pathways: pd.DataFrame
    induction_time: float | None
    induction_source: str
    measure: str
    unit: str
    settings: dict = field(default_factory=dict)
    recordings: list = field(default_factory=list)
    cursors: pd.DataFrame | None = None

    def __init__(self, sweeps: pd.DataFrame, time_course: pd.DataFrame,
                 summary: pd.DataFrame, induction_time: float | None,
                 induction_source: str, measure: str, unit: str,
                 settings: dict | None = None, recordings: list | None = None,
                 cursors: pd.DataFrame | None = None) -> None:
        self.sweeps, self.time_course, self.pathways = sweeps, time_course, summary
        self.cursors = cursors
        self.induction_time, self.induction_source = induction_time, induction_source
        self.measure, self.unit = measure, unit
        self.settings = dict(settings or {})
        self.recordings = [compact_recording(r) for r in (recordings or [])]

    def summary(self) -> pd.DataFrame:
        """One row per pathway: LTP magnitude with CI, PTP, baseline, drift, volley, decay.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`pathways`.
        """
        return self.pathways.copy()

    def get_data(self, pathway: str | None = None) -> np.ndarray:
        """The binned time course.

        Parameters
        ----------
        pathway : str, optional
            Default every pathway, in the order of :meth:`to_data_frame`.

        Returns
        -------
        ndarray, shape (n_bins, 3)
            Bin centre (minutes from induction), mean and SEM (% of baseline).
        """
        tc = self.time_course
        if pathway is not None:
            tc = tc[tc["pathway"].astype(str) == str(pathway)]
        return tc[["bin_centre_min", "mean_pct", "sem_pct"]].to_numpy(float)

    def to_data_frame(self, kind: str = "time_course") -> pd.DataFrame:
        """A table of the result.

        Parameters
        ----------
        kind : {"time_course", "sweeps", "summary"}
            The binned course (as :meth:`get_data`), one row per sweep, or one row per
            pathway.

        Returns
        -------
        pandas.DataFrame
        """
        tables = {"time_course": self.time_course, "sweeps": self.sweeps,
                  "summary": self.pathways}
        return tables[check_option("kind", kind, tables)].copy()

    def plot(self, show_sweeps: bool = True, show: bool | None = None) -> Any:
        """Time course per pathway with the baseline, PTP and LTP windows marked.

        Parameters
        ----------
        show_sweeps : bool
            Draw every sweep under the binned means.
        %(show)s

        %(returns_figure)s
        """
        from ..viz.synaptic import plot_ltp

        return plot_ltp(self, show_sweeps, show)

    def plot_sweep(self, rec: Recording, sweep: int = 0, show: bool | None = None) -> Any:
        """One fEPSP sweep of ``rec`` with its measurement marks (slope segment and fit,
        amplitude, fibre volley), measured on that sweep with this result's fEPSP
        definitions.

        Parameters
        ----------
        rec : Recording
            One of the recordings this result came from.
        sweep : int
            Sweep index in ``rec``.
        %(show)s

        %(returns_figure)s
        """
        from ..viz.synaptic import plot_fepsp_sweep

        # the sweep is measured on its own (no cursor table): the marks show where this
        # sweep's own slope, amplitude and volley are
        known = set(inspect.signature(fepsp).parameters) - {
            "cursors", "cursor_groups", "cursor_sweeps", "channel"}
        table = fepsp(rec, **{k: v for k, v in self.settings.items() if k in known})
        return plot_fepsp_sweep(rec, table, sweep, show=show)

    def _repr_parts(self) -> list[str]:
        p = self.pathways
        mags = ", ".join(f"{r.pathway}: {r.ltp_magnitude_pct:.0f} %" for r in
                         p.head(4).itertuples())
        return [f"fEPSP {self.measure} ({self.unit})", f"{len(p)} pathway(s) ({mags})",
                f"{len(self.sweeps)} sweeps", f"induction {self.induction_source}",
                f"window {self.settings.get('window_minutes')} min"]

    def magnitude(self, pathway: str | None = None) -> float:
        """LTP magnitude of one pathway.

        Parameters
        ----------
        pathway : str, optional
            Pathway label (default the test pathway, else the only one).

        Returns
        -------
        float
            ``ltp_magnitude_pct``: % of baseline.

        Raises
        ------
        AnalysisError
            No such pathway.
        """
        row = self._row(pathway)
        return float(row["ltp_magnitude_pct"])

    def _row(self, pathway: str | None) -> pd.Series:
        s = self.pathways
        if pathway is None:
            test = s[s["role"] == "test"]
            return (test if len(test) else s).iloc[0]
        hit = s[s["pathway"] == str(pathway)]
        if hit.empty:
            raise AnalysisError(f"no pathway {pathway!r}; pathways are {list(s['pathway'])}")
        return hit.iloc[0]

    def features(self, recording: Recording | None = None) -> pd.DataFrame:
        """The summary as a tidy :func:`~ketephys.features.feature_table`.

        Parameters
        ----------
        recording : Recording, optional
            The recording the rows are attributed to (default the first one analysed).

        Returns
        -------
        pandas.DataFrame
            Per pathway: LTP magnitude and confidence interval, PTP, baseline drift,
            volley change, decay (``%``, ``%/min``, ``%/h``, ``min``) and the baseline
            mean of the measure.
        """
        rec = recording if recording is not None else (
            self.recordings[0] if self.recordings else None)
        rows = []
        units = {"ltp_magnitude_pct": "%", "ltp_ci_low": "%", "ltp_ci_high": "%",
                 "ptp_pct": "%", "baseline_drift_pct_per_min": "%/min",
                 "volley_change_pct": "%", "decay_slope_pct_per_h": "%/h",
                 "decay_tau_min": "min"}
        for _, r in self.pathways.iterrows():
            for name, unit in units.items():
                measure = name + "_pct" if unit == "%" and not name.endswith("_pct") else name
                rows.append({"measure": measure, "value": float(r[name]), "unit": unit,
                             "channel": r["channel"], "pathway": r["pathway"],
                             "role": r["role"], "flags": r["flags"]})
            rows.append({"measure": "baseline_" + self.measure, "value": float(
                r["baseline_mean"]), "unit": self.unit, "channel": r["channel"],
                "pathway": r["pathway"], "role": r["role"], "flags": r["flags"]})
        return feature_table(rows, recording=rec, modality="fepsp", settings=self.settings)


def _clock_of(rec: Recording) -> pd.Timestamp | None:
    for key in _CLOCK_KEYS:
        value = rec.meta.extras.get(key)
        if value is not None:
            try:
                return pd.Timestamp(value)
            except (TypeError, ValueError):
                continue
    return None


def join_tables(tables: Sequence[pd.DataFrame], clocks: Sequence[Any] | None = None
                ) -> tuple[pd.DataFrame, list[str]]:
    """Concatenate fEPSP tables of one experiment on a common clock.

    Parameters
    ----------
    tables : sequence of DataFrame
        :func:`~ketephys.synaptic.fepsp` tables, one per file, in recording order.
    clocks : sequence of datetime, optional
        The files' start times; when any is missing the files are placed one after
        another, each starting one typical sweep interval after the previous file's last
        sweep (flag ``file_clock_assumed``).

    Returns
    -------
    table : DataFrame
        The rows of every file with ``file_index`` and ``clock`` (s from the first
        file's start).
    flags : list of str
        ``["file_clock_assumed"]`` or empty.
    """
    flags: list[str] = []
    offsets = []
    if len(tables) > 1 and clocks is not None and all(c is not None for c in clocks):
        t0 = min(clocks)
        offsets = [(c - t0).total_seconds() for c in clocks]
    else:
        if len(tables) > 1:
            flags.append("file_clock_assumed")
        off = 0.0
        for tab in tables:
            offsets.append(off)
            starts = np.unique(tab["sweep_start"].to_numpy(float))
            step = float(np.median(np.diff(starts))) if starts.size > 1 else 0.0
            off += (starts.max() if starts.size else 0.0) + step
    out = []
    for k, (tab, off) in enumerate(zip(tables, offsets)):
        t = tab.copy()
        t.attrs = {}  # cursor tables in attrs would make pandas.concat compare them
        t["file_index"] = k
        t["clock"] = t["sweep_start"].to_numpy(float) + off
        out.append(t)
    return pd.concat(out, ignore_index=True), flags


def _sweep_groups(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sweeps of the table in ``(file_index, sweep)`` order: their keys ``(n_sweeps, 2)``,
    the row of their first appearance, and each row's sweep number (index into keys)."""
    keys = np.column_stack([table["file_index"].to_numpy(np.int64),
                            table["sweep"].to_numpy(np.int64)])
    uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return uniq, first, inverse.reshape(-1)


def _train_sweeps(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-sweep stimulus counts, and the sweeps holding more stimuli than most (trains)."""
    uniq, first, inverse = _sweep_groups(table)
    n = np.full(len(uniq), np.iinfo(np.int64).min)
    np.maximum.at(n, inverse, table["stimulus"].to_numpy(np.int64))
    per = pd.DataFrame({"file_index": uniq[:, 0], "sweep": uniq[:, 1], "n": n,
                        "clock": table["clock"].to_numpy(float)[first]})
    per = per.iloc[np.argsort(per["clock"].to_numpy(), kind="stable")]
    counts = np.bincount(n - n.min())
    typical = int(n.min() + np.argmax(counts))  # the most common count (smallest on ties)
    train = per[per["n"] > typical]
    if len(train) >= 0.2 * len(per):
        train = per.iloc[:0]
    return per, train


def find_induction(table: pd.DataFrame, gap_factor: float = 2.5) -> tuple[float, str, set]:
    """Induction time on the table's clock, how it was found, and the train sweeps.

    Parameters
    ----------
    table : DataFrame
        A :func:`join_tables` table (``clock``, ``file_index``, ``sweep``...).
    gap_factor : float
        Without train sweeps, the induction is the longest pause when it exceeds this many
        typical sweep intervals.

    Returns
    -------
    (time, source, train_keys)
        ``source`` is ``"train_sweeps"`` or ``"gap"``; ``train_keys`` are
        ``(file_index, sweep)`` pairs of induction-train sweeps.
    """
    return _find_induction(table, *_train_sweeps(table), gap_factor)


def _find_induction(table: pd.DataFrame, per: pd.DataFrame, train: pd.DataFrame,
                    gap_factor: float) -> tuple[float, str, set]:
    if len(train):
        first = train.iloc[0]
        t_stim = table[(table["file_index"] == first["file_index"])
                       & (table["sweep"] == first["sweep"])]["time"].min()
        offset = float(first["clock"]) - float(table[(table["file_index"] == first[
            "file_index"]) & (table["sweep"] == first["sweep"])]["sweep_start"].iloc[0])
        keys = set(zip(train["file_index"].astype(int), train["sweep"].astype(int)))
        return float(t_stim + offset), "train_sweeps", keys
    clocks = np.unique(per["clock"].to_numpy(float))
    if clocks.size < 3:
        raise AnalysisError("too few sweeps to find the induction")
    d = np.diff(clocks)
    step = float(np.median(d))
    j = int(np.argmax(d))
    if d[j] <= gap_factor * step:
        raise AnalysisError(
            f"no induction found: no train sweeps and no pause longer than {gap_factor} x the "
            f"{step:g} s sweep interval; pass induction=<seconds>")
    return float(clocks[j] + step), "gap", set()


def _assign_pathways(tab: pd.DataFrame, pathways: Any, col: str, t_ind: float
                     ) -> tuple[pd.DataFrame, str]:
    """Add a ``pathway`` column; returns the table (one row per sweep per pathway) and how."""
    tab = tab.copy()
    # rank of each sweep by its (first) clock, ties in (file_index, sweep) order
    _, first, inverse = _sweep_groups(tab)
    rank = np.empty(first.size, np.int64)
    rank[np.argsort(tab["clock"].to_numpy(float)[first], kind="stable")] = np.arange(first.size)
    tab["sweep_order"] = rank[inverse]
    channels = list(dict.fromkeys(tab["channel"]))
    winner, alternating = _responding_channel(tab) if len(channels) > 1 else (None, False)
    if pathways in (None, "auto"):
        pathways = _auto_pathways(tab, channels, alternating, col, t_ind)
    if pathways == "responding_channel":
        if winner is None or len(winner) != 2:
            raise AnalysisError("pathways='responding_channel' needs two channels responding "
                                "on alternate sweeps")
        tab = tab[tab["channel"].to_numpy() == winner[tab["sweep_order"] % 2].to_numpy()].copy()
        tab["pathway"] = tab["channel"].astype(str)
        return tab, "responding_channel"
    tab["pathway"], how = _pathway_labels(tab, pathways, channels)
    return tab, how


def _responding_channel(tab: pd.DataFrame) -> tuple[pd.Series, bool]:
    """Per sweep parity, the channel responding most (relative to its noise), and whether
    the two parities have different such channels (alternating stimulation)."""
    # per sweep, the channel with the largest response relative to its noise; with
    # alternating stimulation it follows the sweep parity
    snr = tab["amplitude"].abs() / tab["noise_sd"]
    best = tab.loc[snr.groupby(tab["sweep_order"]).idxmax()]
    parity = best["sweep_order"] % 2
    winner = best.groupby(parity)["channel"].agg(lambda c: c.mode().iloc[0])
    agree = (best["channel"].to_numpy() == winner[parity].to_numpy()).mean()
    alternating = len(winner) == 2 and winner[0] != winner[1] and agree > 0.9
    return winner, alternating


def _auto_pathways(tab: pd.DataFrame, channels: list, alternating: bool, col: str,
                   t_ind: float) -> Any:
    """``pathways="auto"``: with several channels, the responding channel (alternating) or
    every channel; with one, 2 when even and odd baseline sweeps differ, else 1."""
    if len(channels) > 1:
        return "responding_channel" if alternating else "channels"
    in_base = tab["clock"].to_numpy(float) < t_ind
    is_even = tab["sweep_order"].to_numpy() % 2 == 0
    differs = False
    for name in dict.fromkeys((col, "amplitude")):
        v = tab[name].to_numpy(float)
        differs |= welch_differs(v[in_base & is_even], v[in_base & ~is_even])
    return 2 if differs else 1


def _pathway_labels(tab: pd.DataFrame, pathways: Any, channels: list) -> tuple[Any, str]:
    """The ``pathway`` column for ``pathways`` other than ``"responding_channel"``, and
    how it was assigned."""
    if pathways == "channels":
        return tab["channel"].astype(str), "channels"
    if pathways == 1:
        return ("1" if len(channels) == 1 else tab["channel"].astype(str)), "single"
    if pathways == 2:
        labels = np.where(tab["sweep_order"] % 2 == 0, "1", "2")
        if len(channels) > 1:
            labels = tab["channel"].astype(str) + ":" + labels
        return labels, "alternate"
    if isinstance(pathways, Mapping):
        return [str(pathways.get(o, pathways.get(str(o), "unassigned")))
                for o in tab["sweep_order"]], "given"
    if isinstance(pathways, Sequence) and not isinstance(pathways, str):
        names = list(pathways)
        return [str(names[o % len(names)]) for o in tab["sweep_order"]], "given"
    raise AnalysisError(f"pathways must be 'auto', 1, 2, 'channels', a mapping or a "
                        f"sequence of labels, got {pathways!r}")


def _ratio_ci(w: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    from scipy import stats

    mw, mb = w.mean(), b.mean()
    r = mw / mb
    vw = w.var(ddof=1) / w.size if w.size > 1 else np.nan
    vb = b.var(ddof=1) / b.size if b.size > 1 else np.nan
    se = abs(r) * math.sqrt(vw / mw ** 2 + vb / mb ** 2)
    df = max(min(w.size, b.size) - 1, 1)
    q = stats.t.ppf(0.5 + level / 2, df)
    return 100 * r, 100 * (r - q * se), 100 * (r + q * se)


def _decay(t: np.ndarray, pct: np.ndarray) -> tuple[float, float, float, float, list[str]]:
    """Linear trend (%/h) and, when it falls, tau (min) of ``100 + P exp(-t/tau)``."""
    from scipy import optimize, stats

    flags: list[str] = []
    if t.size < 5:
        return np.nan, np.nan, np.nan, np.nan, ["too_few_post_sweeps"]
    lin = stats.linregress(t, pct)
    slope_h, slope_se = lin.slope * 60, lin.stderr * 60
    tau = tau_se = np.nan
    if lin.slope < 0 and lin.slope / lin.stderr < -2:
        p0 = (max(pct[: max(3, t.size // 10)].mean() - 100, 1.0), max(np.ptp(t), 1.0))
        try:
            popt, pcov = optimize.curve_fit(lambda x, p, ta: 100 + p * np.exp(-x / ta),
                                            t - t.min(), pct, p0=p0, maxfev=5000)
            tau, tau_se = float(popt[1]), float(np.sqrt(pcov[1, 1]))
            if not (np.isfinite(tau) and tau > 0) or tau > 3 * np.ptp(t):
                flags.append("decay_tau_unidentifiable")
                tau = tau_se = np.nan
        except (RuntimeError, ValueError):
            flags.append("decay_fit_failed")
    else:
        flags.append("no_decay")
    return float(slope_h), float(slope_se), tau, tau_se, flags


#: Default cursor placement of :func:`ltp` time courses (see docs/fepsp_presets).
LTP_CURSORS = "fixed"

_PATHWAYS_AGAIN = {"alternate": 2, "single": 1, "channels": "channels",
                   "responding_channel": "responding_channel"}


def _ltp_fixed(recs: list[Recording], clocks: Sequence[Any] | None, definitions: str,
               kw: dict[str, Any], fepsp_settings: dict[str, Any]) -> LTPResult:
    """:func:`ltp` with fixed cursors: a per-sweep pass finds induction and pathways, the
    cursors are placed on each pathway's baseline mean, every file is measured at them."""
    first = ltp(recs, clocks=clocks, cursors="per-sweep", definitions=definitions, **kw,
                **fepsp_settings)
    sw = first.sweeps
    how = first.settings["pathway_method"]
    in_base = sw[(sw["time_min"] < 0) & (sw["time_min"] >= -kw["baseline_minutes"])]
    counts = in_base["file_index"].value_counts()
    fb = int(counts.idxmax()) if len(counts) else 0
    tables: list[pd.DataFrame | None] = [None] * len(recs)
    cursor_tab = None
    for f in [fb] + [k for k in range(len(recs)) if k != fb]:
        mine = sw[sw["file_index"] == f]
        labels: Any = ("all" if how in ("channels", "single") else
                       dict(zip(mine["sweep"].astype(int), mine["pathway"].astype(str))))
        if cursor_tab is None:
            base_sweeps = sorted(set(in_base[in_base["file_index"] == f]["sweep"].astype(int)))
            tab = fepsp(recs[f], channel=kw["channel"], definitions=definitions,
                        cursors="fixed", cursor_groups=labels,
                        cursor_sweeps=base_sweeps or None, **fepsp_settings)
            cursor_tab = tab.attrs["cursors"]
        else:
            tab = fepsp(recs[f], channel=kw["channel"], definitions=definitions,
                        cursors=cursor_tab, cursor_groups=labels, **fepsp_settings)
        tables[f] = tab
    again = dict(kw, pathways=_PATHWAYS_AGAIN.get(how, kw["pathways"]))
    clock_list = list(clocks) if clocks is not None else [_clock_of(r) for r in recs]
    res = ltp(tables, clocks=clock_list, **again)
    res.recordings = [compact_recording(r) for r in recs]
    res.cursors = cursor_tab
    res.settings.update(cursors="fixed", definitions=definitions, pathways=str(kw["pathways"]),
                        cursor_times=cursor_tab.to_dict("records"))
    return res


@check_keywords(lambda: fepsp)
def ltp(
    recs_or_table: Recording | pd.DataFrame | Sequence[Recording | pd.DataFrame],
    induction: float | str | None = "auto",
    baseline_minutes: float = 10.0,
    measure: str = "slope",
    bin_minutes: float = 1.0,
    window_minutes: tuple[float, float] = (50.0, 60.0),
    ptp_minutes: tuple[float, float] = (0.0, 2.0),
    pathways: Any = "auto",
    stimulus: int = 1,
    channel: str | int | None = None,
    drift_limit_pct: float = 10.0,
    volley_limit_pct: float = 20.0,
    clocks: Sequence[Any] | None = None,
    cursors: str | None = None,
    definitions: str = "ketephys",
    **fepsp_settings: Any,
) -> LTPResult:
    """LTP time course and magnitude from one or several fEPSP recordings or tables.

    Parameters
    ----------
    recs_or_table : Recording, DataFrame or a sequence of them
        Files of one experiment in time order, or tables from :func:`~ketephys.synaptic.fepsp`
        (a table concatenated from several files is split by its ``recording`` column).
    induction : "auto", float or None
        Induction time in s on the joined clock (from the first file's start), ``"auto"``
        (see the module docstring) or ``None`` (the first ``baseline_minutes`` are the
        baseline and time zero is their end).
    baseline_minutes, window_minutes, ptp_minutes, bin_minutes : numbers
        Baseline length before induction, LTP window, PTP window and time-course bin (min).
    measure : {"slope", "amplitude"}
    pathways : "auto", 1, 2, "channels", mapping or sequence
        See the module docstring; a mapping/sequence gives labels by sweep order.
    stimulus : int
        Which stimulus of each sweep (1 = the first of a pair/train).
    channel : optional
        Channel(s) measured when recordings are given.
    drift_limit_pct, volley_limit_pct : float
        Flag ``baseline_drift`` when the fitted baseline trend spans more than this % over
        the baseline, ``volley_changed`` when the volley changes by more than this %.
    clocks : sequence of datetimes, optional
        File start times (default from each recording's ``meta.extras`` ``rec_datetime``,
        ``recording_start`` or ``start_time``).
    cursors : {"per-sweep", "fixed"}, optional
        With recordings: ``"fixed"`` (the default, :data:`LTP_CURSORS`) finds the
        measurement times once per pathway and stimulus on the mean of that pathway's
        baseline sweeps (the last ``baseline_minutes`` before induction; with several
        files, in the file holding most of them) and measures every sweep of every file at
        those times; ``"per-sweep"`` places them on every sweep. A first per-sweep pass
        finds the induction and the pathways. Ignored for tables (made by
        :func:`~ketephys.synaptic.fepsp` with their own ``cursors``).
    definitions : str
        Measurement definitions (:mod:`ketephys.synaptic.presets`), passed to
        :func:`~ketephys.synaptic.fepsp`.
    **fepsp_settings
        Passed to :func:`~ketephys.synaptic.fepsp` when recordings are given.

    Returns
    -------
    LTPResult
    """
    check_option("measure", measure, ("slope", "amplitude"))
    mode = check_option("cursors", LTP_CURSORS if cursors is None else cursors, CURSOR_MODES)
    items = _ltp_items(recs_or_table)
    kw = dict(induction=induction, baseline_minutes=baseline_minutes, measure=measure,
              bin_minutes=bin_minutes, window_minutes=window_minutes, ptp_minutes=ptp_minutes,
              pathways=pathways, stimulus=stimulus, channel=channel,
              drift_limit_pct=drift_limit_pct, volley_limit_pct=volley_limit_pct)
    if mode == "fixed" and all(isinstance(it, Recording) for it in items):
        return _ltp_fixed(list(items), clocks, definitions, kw, fepsp_settings)
    fepsp_settings = {**fepsp_settings, "definitions": definitions}
    if mode == "per-sweep" and any(isinstance(it, Recording) for it in items):
        fepsp_settings["cursors"] = "per-sweep"
    tables, recs, file_clocks = _measured_tables(items, channel, fepsp_settings)
    path = recs[0].source.path if recs else None
    tab, flags0 = _joined_table(tables, list(clocks) if clocks is not None else file_clocks,
                                path)
    # induction-train sweeps (more stimuli than most) never enter the time course
    per, train = _train_sweeps(tab)
    t_ind, source = _induction_time(tab, per, train, induction, baseline_minutes, path)
    tab = _test_responses(tab, train, stimulus)
    tab, how = _assign_pathways(tab, pathways, measure, t_ind)
    tab["time_min"] = (tab["clock"] - t_ind) / 60.0
    tab["value"] = tab[measure].astype(float)
    summaries, courses, parts = [], [], []
    for pw, g in tab.groupby("pathway", sort=True):
        g = g.sort_values("clock").copy()
        summary, course = _pathway_result(str(pw), g, flags0, kw, path)
        summaries.append(summary)
        courses.append(course)
        parts.append(g)
    summary = _with_roles(pd.DataFrame(summaries), source)
    sweeps = pd.concat(parts, ignore_index=True)
    cols = ["clock", "time_min", "pathway", "channel", "file_index", "sweep", "recording",
            "value", "pct", "volley_amplitude", "flags"]
    settings = dict(induction=induction, baseline_minutes=baseline_minutes, measure=measure,
                    bin_minutes=bin_minutes, window_minutes=window_minutes,
                    ptp_minutes=ptp_minutes, pathways=str(pathways), pathway_method=how,
                    stimulus=stimulus, **{k: v for k, v in fepsp_settings.items()})
    settings.update(cursors=mode if recs else "table", definitions=definitions)
    return LTPResult(sweeps=sweeps[cols].reset_index(drop=True),
                     time_course=pd.concat(courses, ignore_index=True), summary=summary,
                     induction_time=t_ind, induction_source=source, measure=measure,
                     unit="V/s" if measure == "slope" else "V", settings=settings,
                     recordings=recs)


def _ltp_items(recs_or_table: Any) -> list:
    """The files of :func:`ltp` as a non-empty list."""
    items = recs_or_table if isinstance(recs_or_table, Sequence) and not isinstance(
        recs_or_table, (str, pd.DataFrame)) else [recs_or_table]
    if not items:
        raise AnalysisError("no recording or table given")
    return items


def _measured_tables(items: Sequence[Any], channel: Any, fepsp_settings: dict[str, Any]
                     ) -> tuple[list[pd.DataFrame], list[Recording], list[Any]]:
    """One fEPSP table per file (recordings are measured; a table concatenated from
    several files is split by its ``recording`` column), the recordings and the files'
    clocks."""
    tables, recs, file_clocks = [], [], []
    for it in items:
        if isinstance(it, Recording):
            tables.append(fepsp(it, channel=channel, **fepsp_settings))
            recs.append(it)
            file_clocks.append(_clock_of(it))
        elif isinstance(it, pd.DataFrame):
            # a table concatenated from several files: one part per recording, in order
            keys = it["recording"] if "recording" in it else pd.Series(0, index=it.index)
            for key in dict.fromkeys(keys.fillna("")):
                tables.append(it[keys.fillna("") == key])
                file_clocks.append(None)
        else:
            raise AnalysisError(f"expected Recording or DataFrame, got {type(it).__name__}")
    return tables, recs, file_clocks


def _joined_table(tables: list[pd.DataFrame], clock_list: list[Any], path
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The files' tables on one clock, with only the columns :func:`ltp` uses."""
    missing = [c for c in _NEEDED if any(c not in t for t in tables)]
    if missing:
        raise AnalysisError(f"fEPSP tables lack columns {missing}; make them with "
                            "ketephys.synaptic.fepsp", path)
    tab, flags0 = join_tables(tables, clock_list)
    # only the columns used from here on (every filter below copies the whole table)
    used = (*_NEEDED, "clock", "file_index", "recording")
    return tab[[c for c in tab.columns if c in used]], flags0


def _induction_time(tab: pd.DataFrame, per: pd.DataFrame, train: pd.DataFrame,
                    induction: float | str | None, baseline_minutes: float, path
                    ) -> tuple[float, str]:
    """Induction time (s on the joined clock) and how it was found."""
    if induction == "auto":
        try:
            t_ind, source, _ = _find_induction(tab, per, train, 2.5)
        except AnalysisError as err:
            raise AnalysisError(err.detail, path) from err
        return t_ind, source
    if induction is None:
        return float(tab["clock"].min() + baseline_minutes * 60.0), "none"
    return float(induction), "given"


def _test_responses(tab: pd.DataFrame, train: pd.DataFrame, stimulus: int) -> pd.DataFrame:
    """The rows of stimulus ``stimulus`` of the sweeps that are not induction trains."""
    uniq, _, inverse = _sweep_groups(tab)
    is_train = (pd.MultiIndex.from_arrays([uniq[:, 0], uniq[:, 1]]).isin(
        pd.MultiIndex.from_arrays([train["file_index"], train["sweep"]])) if len(train)
        else np.zeros(len(uniq), bool))
    keep = ~is_train[inverse] & (tab["stimulus"] == stimulus).to_numpy()
    return tab[keep].copy()


def _pathway_result(pw: str, g: pd.DataFrame, flags0: list[str], kw: dict[str, Any], path
                    ) -> tuple[dict[str, Any], pd.DataFrame]:
    """One pathway's summary row and binned time course; adds ``pct`` to ``g`` (its rows
    sorted by clock)."""
    baseline_minutes = kw["baseline_minutes"]
    window_minutes, ptp_minutes = kw["window_minutes"], kw["ptp_minutes"]
    flags = list(flags0)
    # plain arrays from here on (boolean filters of the frame copy every column)
    tm, val = g["time_min"].to_numpy(float), g["value"].to_numpy(float)
    in_base = (tm < 0) & (tm >= -baseline_minutes)
    b = val[in_base]
    b = b[np.isfinite(b)]
    if b.size < 2:
        raise AnalysisError(f"pathway {pw}: fewer than 2 baseline sweeps in the "
                            f"{baseline_minutes} min before induction", path)
    bmean = float(b.mean())
    pct = 100.0 * val / bmean
    g["pct"] = pct

    def window(lo: float, hi: float) -> np.ndarray:
        v = val[(tm >= lo) & (tm < hi)]
        return v[np.isfinite(v)]

    w = window(*window_minutes)
    if w.size >= 2:
        mag, lo_ci, hi_ci = _ratio_ci(w, b)
    else:
        mag = lo_ci = hi_ci = np.nan
        flags.append("ltp_window_empty")
    p = window(*ptp_minutes)
    ptp_pct = 100 * p.mean() / bmean if p.size else np.nan
    if not p.size:
        flags.append("ptp_window_empty")
    drift, drift_se = _baseline_drift(tm[in_base], 100 * val[in_base] / bmean,
                                      baseline_minutes, kw["drift_limit_pct"], flags)
    volley = g["volley_amplitude"].to_numpy(float)
    vchange = _volley_change(volley[in_base],
                             volley[(tm >= window_minutes[0]) & (tm < window_minutes[1])],
                             kw["volley_limit_pct"], flags)
    post = tm >= ptp_minutes[1]
    pv = pct[post]
    ok = np.isfinite(pv)
    dslope, dslope_se, tau, tau_se, dflags = _decay(tm[post][ok], pv[ok])
    flags += dflags
    summary = {
        "pathway": pw, "channel": ";".join(dict.fromkeys(g["channel"].astype(str))),
        "ltp_magnitude_pct": mag, "ltp_ci_low": lo_ci, "ltp_ci_high": hi_ci,
        "ptp_pct": ptp_pct, "baseline_mean": bmean, "baseline_drift_pct_per_min": drift,
        "baseline_drift_pct_per_min_se": drift_se, "volley_change_pct": vchange,
        "decay_slope_pct_per_h": dslope, "decay_slope_pct_per_h_se": dslope_se,
        "decay_tau_min": tau, "decay_tau_min_se": tau_se, "n_baseline": int(b.size),
        "n_window": int(w.size), "flags": ";".join(dict.fromkeys(flags))}
    return summary, _time_course(pw, g, kw["bin_minutes"])


def _baseline_drift(bt: np.ndarray, bp: np.ndarray, baseline_minutes: float,
                     drift_limit_pct: float, flags: list[str]) -> tuple[float, float]:
    """Linear trend (%/min) of the baseline ``bp`` (% of its mean) over ``bt`` (min);
    flags ``baseline_drift`` beyond ``drift_limit_pct`` over the baseline."""
    from scipy import stats

    ok = np.isfinite(bp)
    if ok.sum() < 3:
        return np.nan, np.nan
    lr = stats.linregress(bt[ok], bp[ok])
    drift, drift_se = float(lr.slope), float(lr.stderr)
    if abs(drift) * baseline_minutes > drift_limit_pct:
        flags.append("baseline_drift")
    return drift, drift_se


def _volley_change(vb: np.ndarray, vw: np.ndarray, volley_limit_pct: float,
                   flags: list[str]) -> float:
    """Change (%) of the fibre volley from the baseline ``vb`` to the LTP window ``vw``;
    flags ``volley_changed`` beyond ``volley_limit_pct``, ``volley_not_measured`` when
    most volleys are missing."""
    if np.isfinite(vb).mean() > 0.5 and vw.size and np.isfinite(vw).mean() > 0.5:
        vchange = 100 * (np.nanmean(vw) / np.nanmean(vb) - 1)
        if abs(vchange) > volley_limit_pct:
            flags.append("volley_changed")
        return vchange
    flags.append("volley_not_measured")
    return np.nan


def _time_course(pw: str, g: pd.DataFrame, bin_minutes: float) -> pd.DataFrame:
    """Mean, SEM and count of ``pct`` per ``bin_minutes`` bin."""
    k = np.floor(g["time_min"] / bin_minutes)
    c = g.groupby(k)["pct"].agg(["mean", "sem", "count"]).reset_index()
    return pd.DataFrame({
        "pathway": pw, "bin_start_min": c["time_min"] * bin_minutes,
        "bin_centre_min": (c["time_min"] + 0.5) * bin_minutes, "mean_pct": c["mean"],
        "sem_pct": c["sem"], "n": c["count"].astype(int)})


def _with_roles(summary: pd.DataFrame, source: str) -> pd.DataFrame:
    """Add the ``role`` column: ``only``; or ``test`` (largest LTP) and ``control``; or
    ``unknown`` without induction or without any LTP-window value."""
    summary["role"] = "only" if len(summary) == 1 else "control"
    if len(summary) > 1:
        magnitudes = summary["ltp_magnitude_pct"]
        if source == "none" or magnitudes.isna().all():
            # no induction, or no pathway recorded in the LTP window: roles unknown
            summary["role"] = "unknown"
        else:
            summary.loc[magnitudes.idxmax(), "role"] = "test"
    summary.insert(1, "role", summary.pop("role"))
    return summary
