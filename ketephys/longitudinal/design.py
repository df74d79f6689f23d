"""From a tidy table to per-group, per-subject padded arrays that the estimator batches over.

A group (a region, or a (measure, region) pair of a long feature table) becomes a
:class:`GroupData`: subjects x visits arrays of time, value and validity, a subject x
covariate matrix and each subject's dose history. Bootstrap replicates are built by
indexing these arrays with resampled subject indices (:meth:`GroupData.take`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from ..errors import AnalysisError, SettingsError

__all__ = ["GroupData", "Covariate", "prepare_groups", "select_value", "group_keys",
           "COVARIATE_COLUMNS", "BASELINE_MODES"]

logger = logging.getLogger(__name__)

#: Covariate shorthands of :func:`~ketephys.longitudinal.fit_decay` -> the metadata column
#: each stands for (any other covariate name is a column name itself). The batch carries
#: these columns into the table it fits.
COVARIATE_COLUMNS = {"dose": "dose_mg_per_kg", "infusions": "infusion"}
#: How a subject's baseline level is obtained (``baseline_mode`` of
#: :func:`~ketephys.longitudinal.fit_decay`): its pre-dose mean is subtracted, or a baseline
#: parameter E0 is estimated.
BASELINE_MODES = ("pre-dose", "estimate")


@dataclass
class Covariate:
    """One numeric covariate column derived from the table (log-scale effects).

    Attributes
    ----------
    name : str
        The covariate's name in the fit's effects (``"log_dose"``, ``"met_carrier"``,
        ``"infusion"``, ``"condition[drug]"``...).
    column : str
        The table column it is computed from.
    kind : {"log_ratio", "met_carrier", "indicator", "numeric"}
        ``"log_ratio"``: value = log(x / reference), so the effect is a power-law
        exponent (dose); ``"met_carrier"``: 1 for a genotype containing "Met", else 0;
        ``"indicator"``: 1 when the column equals ``level``, else 0; ``"numeric"``:
        value = x - reference (e.g. the infusion count).
    reference : Any
        The reference value (the most common dose, the smallest number, the most common
        category); the reference subject has covariate value 0.
    level : Any, optional
        The category an ``"indicator"`` covariate marks (None for the other kinds).
    """

    name: str
    column: str
    kind: str
    reference: Any
    level: Any = None

    def encode(self, values: pd.Series) -> np.ndarray:
        """The covariate's numeric values for some rows of its column.

        Parameters
        ----------
        values : pandas.Series
            Values of :attr:`column`.

        Returns
        -------
        numpy.ndarray of float
            One value per row (NaN where a number is missing or not numeric).
        """
        if self.kind == "log_ratio":
            v = pd.to_numeric(values, errors="coerce").to_numpy(float)
            return np.log(v / float(self.reference))
        if self.kind == "indicator":
            return (values.astype(str) == str(self.level)).to_numpy(float)
        if self.kind == "met_carrier":
            return values.astype(str).str.contains("met", case=False).to_numpy(float)
        return pd.to_numeric(values, errors="coerce").to_numpy(float) - float(self.reference)


@dataclass
class GroupData:
    """One group's observations as padded subject x visit arrays.

    Attributes
    ----------
    key : tuple
        The group's key values (e.g. ``("PFC",)`` or ``("gamma_power", "PFC")``).
    subjects : ndarray of str, shape (N,)
        Subject ids.
    t, y : ndarray (N, V)
        Hours since the (first) dose and the value (change from the subject's pre-dose
        mean with ``baseline_mode="pre-dose"``); padding is 0.
    mask : ndarray of bool (N, V)
        True for real visits, False for padding.
    X : ndarray (N, k)
        Covariate values (see :class:`Covariate`).
    dose_t, dose_amt, dose_mask : ndarray (N, J)
        Each subject's dose history: hours of the doses, amounts (the schedule's doses,
        else the ``dose_mg_per_kg`` value, else 1) and which entries are real.
    pre_dose_mean : ndarray (N,)
        Pre-dose mean per subject (NaN when there was none).
    raw : pandas.DataFrame
        The group's rows of the (numeric, filtered) input table.
    """

    key: tuple
    subjects: np.ndarray
    t: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    X: np.ndarray
    dose_t: np.ndarray
    dose_amt: np.ndarray
    dose_mask: np.ndarray
    pre_dose_mean: np.ndarray
    raw: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_obs(self) -> int:
        return int(self.mask.sum())

    @property
    def post_times(self) -> np.ndarray:
        return np.unique(self.t[self.mask & (self.t > 0)])

    def take(self, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The arrays the estimator uses, with a leading batch axis.

        Parameters
        ----------
        idx : ndarray of int, shape (B, N), optional
            Subject indices of B resampled data sets (bootstrap); default: the data as
            they are (B = 1).

        Returns
        -------
        dict of str to ndarray
            ``t``, ``y``, ``mask``, ``X``, ``dose_t``, ``dose_amt``, ``dose_mask``, each
            of shape (B, N, ...).
        """
        names = ("t", "y", "mask", "X", "dose_t", "dose_amt", "dose_mask")
        if idx is None:
            return {n: getattr(self, n)[None] for n in names}
        return {n: getattr(self, n)[idx] for n in names}


def select_value(table: pd.DataFrame, value: str, measure: str | Sequence[str] | None,
                 path: str | None = None) -> tuple[pd.DataFrame, str, bool]:
    """Resolve the value column, filtering a long table by ``measure``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table given to :func:`~ketephys.longitudinal.fit_decay`.
    value : str
        A column, or the name of a measure in a long table's ``measure`` column.
    measure : str or sequence of str, optional
        Keep only these measures of a long table.
    path : str, optional
        The table's file, named in error messages.

    Returns
    -------
    table : pandas.DataFrame
        The rows of the wanted measures.
    value : str
        The name of the value column.
    long : bool
        Whether the table is long format, with a ``measure`` column to group by.

    Raises
    ------
    SettingsError
        When ``table`` is not a DataFrame.
    AnalysisError
        When a measure or the value column is not in the table.
    """
    if not isinstance(table, pd.DataFrame):
        raise SettingsError("fit_decay needs a pandas DataFrame", path)
    long = "measure" in table.columns
    if measure is not None:
        if not long:
            raise AnalysisError(f"measure={measure!r} given but the table has no 'measure' column",
                                path)
        wanted = [measure] if isinstance(measure, str) else list(measure)
        missing = set(wanted) - set(table["measure"].astype(str))
        if missing:
            raise AnalysisError(f"measure(s) {sorted(missing)} not in the table's 'measure' "
                                f"column (has {sorted(table['measure'].astype(str).unique())})",
                                path)
        table = table[table["measure"].astype(str).isin(wanted)]
    if value not in table.columns:
        if long and value in set(table["measure"].astype(str)) and "value" in table.columns:
            table = table[table["measure"].astype(str) == value]
            value = "value"
        else:
            raise AnalysisError(f"no column {value!r} (and no measure of that name) in the table; "
                                f"columns: {list(table.columns)}", path)
    return table, value, long and table["measure"].nunique() > 0


def _make_covariates(table: pd.DataFrame, covariates: Sequence[str], path: str | None
                     ) -> list[Covariate]:
    out = []
    for name in covariates:
        column = COVARIATE_COLUMNS.get(name, name)
        if column not in table.columns:
            raise AnalysisError(f"covariate {name!r}: no column {column!r} in the table", path)
        col = table[column].dropna()
        if col.empty:
            raise AnalysisError(f"covariate {name!r}: column {column!r} is empty", path)
        if column == "dose_mg_per_kg":
            dose = pd.to_numeric(col, errors="coerce")
            if dose.isna().any() or (dose <= 0).any():
                raise AnalysisError("covariate 'dose': dose_mg_per_kg must be > 0", path)
            ref = float(dose.mode().min())
            out.append(Covariate("log_dose", column, "log_ratio", ref))
        elif column == "genotype":
            text = col.astype(str)
            met = text[text.str.contains("met", case=False)]
            if met.empty:
                raise AnalysisError("covariate 'genotype': no Met carrier in the table", path)
            # Met carriers (Val/Met, Met/Met) vs Val/Val: a carrier indicator.
            out.append(Covariate("met_carrier", column, "met_carrier", "non-carrier",
                                 "Met carrier"))
        elif pd.api.types.is_numeric_dtype(col):
            out.append(Covariate(name, column, "numeric", float(col.min())))
        else:
            counts = col.astype(str).value_counts()
            ref = sorted(counts[counts == counts.max()].index)[0]
            for level in sorted(set(counts.index) - {ref}):
                out.append(Covariate(f"{name}[{level}]", column, "indicator", ref, level))
    return out


def _dose_history(sub: pd.DataFrame, schedule: Any, subject_id: Any, dose_col: str | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    if schedule is None:
        amt = 1.0
        if dose_col is not None:
            vals = pd.to_numeric(sub[dose_col], errors="coerce").dropna()
            amt = float(vals.iloc[0]) if len(vals) else 1.0
        return np.zeros(1), np.array([amt])
    if isinstance(schedule, pd.DataFrame):
        rows = schedule[schedule["subject"].astype(str) == str(subject_id)]
        if rows.empty:
            raise AnalysisError(f"schedule has no rows for subject {subject_id!r}")
        times = rows["t_h"].to_numpy(float)
        amts = rows["dose"].to_numpy(float)
    else:
        times = np.array([float(s[0]) for s in schedule])
        amts = np.array([float(s[1]) for s in schedule])
    order = np.argsort(times)
    return times[order], amts[order]


def group_keys(table: pd.DataFrame, group: str | Sequence[str] | None, long: bool,
               path: str | None = None) -> list[str]:
    """The columns one decay is fitted per: ``group`` (checked), with ``measure`` first
    for a long table holding several measures.

    Parameters
    ----------
    table : pandas.DataFrame
        The table (after :func:`select_value`).
    group : str, sequence of str or None
        Grouping column(s) of :func:`~ketephys.longitudinal.fit_decay`.
    long : bool
        Whether the table is long format (has a ``measure`` column).
    path : str, optional
        The table's file, named in error messages.

    Returns
    -------
    list of str
        The key columns (empty: one fit over the whole table).

    Raises
    ------
    AnalysisError
        When a group column is not in the table.
    """
    keys = [] if group is None else ([group] if isinstance(group, str) else list(group))
    for col in keys:
        if col not in table.columns:
            raise AnalysisError(f"group column {col!r} is not in the table", path)
    if long and "measure" not in keys and table["measure"].nunique() > 1:
        keys = ["measure", *keys]
    return keys


def prepare_groups(
    table: pd.DataFrame,
    value: str = "value",
    time: str = "hours_since_dose",
    subject: str = "subject",
    group: str | Sequence[str] | None = "region",
    measure: str | Sequence[str] | None = None,
    baseline_mode: str = "pre-dose",
    covariates: Sequence[str] = (),
    schedule: Any = None,
    path: str | None = None,
) -> tuple[list[GroupData], list[Covariate], list[str]]:
    """Split a tidy table into :class:`GroupData` per group.

    Rows with a missing value or time are dropped. Several rows of one subject at one
    time in one group (e.g. the channels of a region) are averaged. With
    ``baseline_mode="pre-dose"`` each subject's pre-dose mean (rows with time < 0) is
    subtracted and the pre-dose rows dropped; subjects without one are dropped with a
    warning.

    Parameters
    ----------
    table, value, time, subject, group, measure, baseline_mode, covariates, schedule, path
        As :func:`~ketephys.longitudinal.fit_decay`.

    Returns
    -------
    groups : list of GroupData
        One per group, in sorted key order.
    covariates : list of Covariate
        The encoded covariates (shared by the groups).
    key_names : list of str
        Names of the group key columns.

    Raises
    ------
    SettingsError
        When ``baseline_mode`` is not one of :data:`BASELINE_MODES`.
    AnalysisError
        For a missing column, no numeric rows, a covariate that cannot be encoded, or a
        group without a usable subject.
    """
    check_option("baseline_mode", baseline_mode, BASELINE_MODES, path)
    table, value, long = select_value(table, value, measure, path)
    for col in (time, subject):
        if col not in table.columns:
            raise AnalysisError(f"the table has no column {col!r} (columns: {list(table.columns)})",
                                path)
    keys = group_keys(table, group, long, path)
    table = _numeric_rows(table, value, time, path)
    post = table[table[time] >= 0]
    covs = _make_covariates(post if len(post) else table, covariates, path)
    dose_col = "dose_mg_per_kg" if "dose_mg_per_kg" in table.columns else None
    grouped = table.groupby(keys, sort=True) if keys else [((), table)]
    groups = [_group_data(key if isinstance(key, tuple) else (key,), gtab, value, time,
                          subject, baseline_mode, covs, schedule, dose_col, path)
              for key, gtab in grouped]
    return groups, covs, keys


def _numeric_rows(table: pd.DataFrame, value: str, time: str, path) -> pd.DataFrame:
    """A copy of ``table`` with numeric ``value`` and ``time``, rows missing either
    dropped (logged); an error when none is left or a value is infinite."""
    table = table.copy()
    table[value] = pd.to_numeric(table[value], errors="coerce")
    table[time] = pd.to_numeric(table[time], errors="coerce")
    n_before = len(table)
    table = table.dropna(subset=[value, time])
    if len(table) < n_before:
        logger.warning("dropped %d rows with a missing %r or %r", n_before - len(table), value, time)
    if table.empty:
        raise AnalysisError(f"no rows with a numeric {value!r} and {time!r}", path)
    if not np.all(np.isfinite(table[value])):
        raise AnalysisError(f"column {value!r} has infinite values", path)
    return table


def _group_data(key: tuple, gtab: pd.DataFrame, value: str, time: str, subject: str,
                baseline_mode: str, covs: list, schedule, dose_col: str | None, path
                ) -> GroupData:
    """One group's subjects as padded arrays (visits, values, covariates, doses)."""
    agg = gtab.groupby([subject, time], sort=True)[value].mean()
    by_subject = dict(tuple(gtab.groupby(subject, sort=True)))
    subj_ids, t_rows, y_rows, base, x_rows, dts, das = [], [], [], [], [], [], []
    for sid, sub_all in by_subject.items():
        series = _subject_series(agg.loc[sid], baseline_mode, key, sid)
        if series is None:
            continue
        t_s, y_s, b = series
        xs = _subject_covariates(sub_all, time, covs, key, sid, path)
        dt, da = _dose_history(sub_all, schedule, sid, dose_col)
        subj_ids.append(sid)
        t_rows.append(t_s)
        y_rows.append(y_s)
        base.append(b)
        x_rows.append(xs)
        dts.append(dt)
        das.append(da)
    if not subj_ids:
        raise AnalysisError(f"group {key}: no subject with usable data (baseline_mode="
                            f"{baseline_mode!r}"
                            " needs a pre-dose visit, time < 0)", path)
    n, v, j = len(subj_ids), max(map(len, t_rows)), max(map(len, dts))
    t_arr, y_arr, m_arr = np.zeros((n, v)), np.zeros((n, v)), np.zeros((n, v), bool)
    dt_arr, da_arr, dm_arr = np.zeros((n, j)), np.ones((n, j)), np.zeros((n, j), bool)
    for i in range(n):
        k = len(t_rows[i])
        t_arr[i, :k], y_arr[i, :k], m_arr[i, :k] = t_rows[i], y_rows[i], True
        k = len(dts[i])
        dt_arr[i, :k], da_arr[i, :k], dm_arr[i, :k] = dts[i], das[i], True
    return GroupData(key=key, subjects=np.asarray(subj_ids), t=t_arr, y=y_arr,
                     mask=m_arr, X=np.asarray(x_rows, float).reshape(n, len(covs)),
                     dose_t=dt_arr, dose_amt=da_arr, dose_mask=dm_arr,
                     pre_dose_mean=np.asarray(base), raw=gtab)


def _subject_series(srows: pd.Series, baseline_mode: str, key: tuple, sid: Any
                    ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A subject's visit times, values and pre-dose mean; with
    ``baseline_mode="pre-dose"`` only the post-dose visits, as changes from that mean.
    None: nothing to fit."""
    t_s = srows.index.to_numpy(float)
    y_s = srows.to_numpy(float)
    pre = t_s < 0
    b = float(y_s[pre].mean()) if pre.any() else np.nan
    if baseline_mode == "pre-dose":
        if not pre.any():
            logger.warning("group %s: subject %s has no pre-dose visit; dropped", key, sid)
            return None
        t_s, y_s = t_s[~pre], y_s[~pre] - b
    if t_s.size == 0:
        return None
    return t_s, y_s, b


def _subject_covariates(sub_all: pd.DataFrame, time: str, covs: list, key: tuple, sid: Any,
                        path) -> list[float]:
    """A subject's encoded covariates, from its post-dose rows (an infusion count is 0
    before the dose); an error when one is missing or changes between visits."""
    xs = []
    post_rows = sub_all[sub_all[time] >= 0]
    cov_rows = post_rows if len(post_rows) else sub_all
    for cov in covs:
        enc = np.unique(cov.encode(cov_rows[cov.column].dropna()))
        if enc.size != 1 or not np.isfinite(enc[0]):
            raise AnalysisError(f"covariate {cov.name!r} of subject {sid!r} in group "
                                f"{key} is missing or changes between visits", path)
        xs.append(enc[0])
    return xs
