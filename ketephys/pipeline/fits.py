"""The longitudinal decay fits a configuration asks for, made over the feature table."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from ..longitudinal import COVARIATE_COLUMNS
from ..meta import META_COLUMNS
from .config import FitConfig

__all__ = ["fit_table", "run_fits", "FIT_ID_COLUMNS"]

log = logging.getLogger(__name__)

#: Columns that name a fit in decay_fits.csv (before the fit's own summary columns).
FIT_ID_COLUMNS = ("fit", "measure", "modality", "channel")


def fit_table(features, fit: FitConfig):
    """One value per recording for ``fit``: its measure (and modality/channel) rows,
    averaged over channels when no channel is named, with the metadata columns.

    Parameters
    ----------
    features : pandas.DataFrame
        The run's feature table (features.parquet).
    fit : FitConfig
        The fit: its ``measure`` and optional ``modality`` and ``channel`` pick the rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~ketephys.meta.META_COLUMNS`, ``recording``, ``modality``,
        ``measure``, ``channel``, ``value``, ``unit`` and any covariate columns.
    """
    import pandas as pd

    rows = features[features["measure"] == fit.measure]
    if fit.modality is not None:
        rows = rows[rows["modality"] == fit.modality]
    if fit.channel is not None:
        rows = rows[rows["channel"].astype(str) == fit.channel]
    rows = rows[pd.to_numeric(rows["value"], errors="coerce").notna()].copy()
    rows["value"] = rows["value"].astype(float)
    keys = [c for c in ("recording", "modality", "measure", "unit") if c in rows.columns]
    wanted = [*META_COLUMNS, *fit.covariates, *COVARIATE_COLUMNS.values()]
    carry = [c for c in dict.fromkeys(wanted) if c in rows.columns and c not in keys]
    if rows.empty:
        return rows
    table = (rows.groupby(keys, dropna=False, sort=True)
             .agg({"value": "mean", **{c: "first" for c in carry}})
             .reset_index())
    table["channel"] = fit.channel if fit.channel is not None else "mean"
    return table


def _fit_name(fit: FitConfig) -> str:
    parts = [fit.measure, fit.modality, fit.channel]
    return "/".join(p for p in parts if p)


def fit_one(data, fit: FitConfig) -> tuple[Any, Any]:
    """One decay fit, with one BLAS thread (so a worker and the driver give the same
    numbers), each group on its own: a group that cannot be fitted gets a row with
    ``error`` and the others keep their results. Returns ``(summary DataFrame, DecayFit
    or None)``; raises only for problems of the whole table."""
    from .._parallel import single_blas_thread
    from ..longitudinal.decay import fit_decay_by_group

    with single_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numerical trial steps
        summary, result = fit_decay_by_group(
            data, value="value", group=fit.group, model=fit.model,
            baseline_mode=fit.baseline_mode,
            covariates=list(fit.covariates), random_effects=fit.random_effects, ci=fit.ci,
            n_boot=fit.n_boot, seed=fit.seed, level=fit.level, **fit.options)
        return summary.copy(), result


def _serial_submit(func: Callable[..., Any], *args: Any) -> Any:
    class _Done:
        def __init__(self) -> None:
            try:
                self.value, self.error = func(*args), None
            except Exception as err:
                self.value, self.error = None, err

        def result(self) -> Any:
            if self.error is not None:
                raise self.error
            return self.value

    return _Done()


def run_fits(features, fits: list[FitConfig], submit: Callable[..., Any] | None = None
             ) -> tuple[Any, list[tuple[FitConfig, Any, Any]]]:
    """Make every configured fit.

    Parameters
    ----------
    features : pandas.DataFrame
    fits : list of FitConfig
    submit : callable, optional
        ``submit(func, *args)`` returning a future (a process pool's or a Dask client's
        ``submit``) to make the fits in parallel; default: one after the other.

    Returns
    -------
    summary : pandas.DataFrame
        decay_fits.csv: :data:`FIT_ID_COLUMNS` then each fit's ``summary()`` columns; a fit
        that could not be made has one row with ``error`` set.
    results : list of (FitConfig, data table, DecayFit or None)
        For the report (the DecayFit holds the groups that could be fitted).
    """
    import pandas as pd

    submit = submit or _serial_submit
    jobs = []
    for fit in fits:
        data = fit_table(features, fit)
        ident = {"fit": _fit_name(fit), "measure": fit.measure, "modality": fit.modality,
                 "channel": fit.channel or "mean"}
        future = None if data.empty else submit(fit_one, data, fit)
        jobs.append((fit, data, ident, future))
    frames = []
    results = []
    for fit, data, ident, future in jobs:
        if future is None:
            log.warning("decay fit %s: no rows with this measure", ident["fit"])
            frames.append(pd.DataFrame([{**ident, "error": "no rows with this measure"}]))
            results.append((fit, data, None))
            continue
        try:
            summary, result = future.result()
        except Exception as err:  # a failing fit is reported, the other fits still run
            log.error("decay fit %s failed: %s: %s", ident["fit"], type(err).__name__, err)
            frames.append(pd.DataFrame([{**ident, "error": f"{type(err).__name__}: {err}"}]))
            results.append((fit, data, None))
            continue
        for col in reversed(FIT_ID_COLUMNS):
            if col in summary.columns:
                summary = summary.drop(columns=col)
            summary.insert(0, col, ident[col])
        for _, row in summary.iterrows():
            if isinstance(row.get("error"), str):
                log.error("decay fit %s: %s", ident["fit"], row["error"])
        frames.append(summary)
        results.append((fit, data, result))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(FIT_ID_COLUMNS))
    return table, results
