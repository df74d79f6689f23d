"""``ketephys fit TABLE.csv``: decay fits from the command line.

The pipeline's ``ketephys/cli.py`` calls :func:`register` to add the subcommand;
``python -m ketephys.longitudinal.cli`` runs it on its own.

Each group is fitted on its own: a group that cannot be fitted gets a row with its
reason in ``error`` and the others keep their results. Exit status: 0 every group
fitted and identifiable, 2 a usage error or a table that cannot be fitted at all,
3 when any group failed or is not identifiable (its row says why).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from ..errors import ConfigError, KetephysError
from ._subcommand import report_bad_input, subcommand_registrar

__all__ = ["register", "run", "main", "EXIT_FIT_PROBLEM", "TEXT_COLUMNS"]

#: Exit status when a group's fit failed or is not identifiable.
EXIT_FIT_PROBLEM = 3
#: Identifier columns always read as text: "02" and "2" are different subjects.
TEXT_COLUMNS = ("subject", "session", "region", "condition", "genotype", "channel",
                "recording")

logger = logging.getLogger(__name__)


class _RenamedFlag(argparse.Action):
    """A former flag, hidden from the help: using it is a usage error naming the new one
    (without it, argparse would take ``--baseline`` as an abbreviation of
    ``--baseline-mode``)."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs) -> None:
        super().__init__(option_strings, dest, nargs="?", default=argparse.SUPPRESS,
                         help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parser.error(f"{option_string} was renamed {self.new} in ketephys 0.2")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", help="tidy CSV (or .parquet/.tsv) table, long or wide format")
    p.add_argument("--value", default="value",
                   help="value column, or a measure name of a long table (default: value)")
    p.add_argument("--measure", default=None, help="keep only this measure of a long table")
    p.add_argument("--modality", default=None,
                   help="keep only rows of this modality (e.g. lfp; the features table of "
                        "a run mixes eeg and lfp rows of one measure)")
    p.add_argument("--where", action="append", default=[], metavar="COLUMN==VALUE",
                   help="keep only rows where COLUMN equals VALUE (as text), e.g. "
                        "--where channel==mean; repeat to combine")
    p.add_argument("--group", default="region", help="grouping column (default: region)")
    p.add_argument("--time", default="hours_since_dose", help="hours-since-dose column")
    p.add_argument("--subject", default="subject", help="subject column")
    p.add_argument("--model", default="exponential", choices=["exponential", "bateman", "auto"])
    p.add_argument("--baseline-mode", default="pre-dose", choices=["pre-dose", "estimate"],
                   help="how each subject's baseline level is obtained: subtract its "
                        "pre-dose mean, or estimate a baseline parameter (default: pre-dose)")
    p.add_argument("--baseline", action=_RenamedFlag, new="--baseline-mode")
    p.add_argument("--covariates", default="", help="comma-separated, e.g. dose,genotype")
    p.add_argument("--no-random-effects", action="store_true",
                   help="pooled least squares instead of the population fit")
    p.add_argument("--ci", default="profile", choices=["profile", "bootstrap", "both", "none"])
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default=None,
                   help="summary CSV to write (default: <table>_decay_fits.csv beside the table)")


def _read_table(path: Path, text_columns: tuple[str, ...] = TEXT_COLUMNS):
    """The table, with the identifier columns as text (never "02" == "2")."""
    import pandas as pd

    if not path.exists():
        raise ConfigError("table not found", path)
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            for col in set(text_columns) & set(table.columns):
                table[col] = table[col].map(lambda v: v if pd.isna(v) else str(v))
            return table
        return pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",",
                           dtype={c: str for c in text_columns})
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ConfigError(f"cannot read the table: {exc}", path) from exc


def _filter(table, modality: str | None, where: list[str], path: Path):
    """Rows of ``modality`` and matching every ``COLUMN==VALUE`` (compared as text)."""
    conditions = [f"modality=={modality}"] if modality else []
    for cond in [*conditions, *where]:
        m = re.fullmatch(r"\s*([^=!]+?)\s*==\s*(.*?)\s*", cond)
        if not m:
            raise ConfigError(f"--where {cond!r}: write it as COLUMN==VALUE")
        col, val = m.groups()
        if col not in table.columns:
            raise ConfigError(f"--where {cond!r}: no column {col!r} (columns: "
                              f"{list(table.columns)})", path)
        table = table[table[col].astype(str) == val]
        if table.empty:
            raise ConfigError(f"no rows left after {cond!r}", path)
    return table


def run(args: argparse.Namespace) -> int:
    """Run ``ketephys fit``: read the table, fit a decay per group, print the summary and
    write it to CSV.

    The rows kept are those of ``--modality`` and every ``--where`` condition; the CSV goes
    to ``--out``, by default ``<table>_decay_fits.csv`` beside the table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``fit`` arguments.

    Returns
    -------
    int
        The exit code: 0, 2 (bad input or a table that cannot be fitted),
        :data:`EXIT_FIT_PROBLEM` (a group failed or is not identifiable) or 4 (the CSV
        cannot be written).
    """
    from .decay import fit_decay_by_group

    path = Path(args.table)
    try:
        text = tuple(dict.fromkeys([*TEXT_COLUMNS, args.subject, args.group]))
        table = _filter(_read_table(path, text), getattr(args, "modality", None),
                        list(getattr(args, "where", []) or []), path)
        covs = tuple(c.strip() for c in args.covariates.split(",") if c.strip())
        summary, _ = fit_decay_by_group(
            table, value=args.value, time=args.time, subject=args.subject, group=args.group,
            model=args.model, baseline_mode=args.baseline_mode, covariates=covs,
            random_effects=not args.no_random_effects, ci=args.ci, n_boot=args.n_boot,
            seed=args.seed, measure=args.measure, path=str(path))
    except KetephysError as exc:
        return report_bad_input("fit", exc)
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}_decay_fits.csv")
    try:
        summary.to_csv(out, index=False)
    except OSError as exc:
        print(f"ketephys fit: error: cannot write {out}: {exc.strerror or exc}",
              file=sys.stderr)
        return 4
    cols = [c for c in ("measure", args.group, "group", "model", "tau_h", "tau_ci_low_h",
                        "tau_ci_high_h", "half_life_h", "t10_h", "n_subjects", "identifiable",
                        "error") if c in summary.columns]
    print(summary[list(dict.fromkeys(cols))].to_string(index=False))
    print(f"summary written to {out}")
    import pandas as pd

    none = pd.Series(False, index=summary.index)
    failed = summary["error"].notna() if "error" in summary.columns else none
    shaky = (summary["identifiable"].astype(str) == "False"
             if "identifiable" in summary.columns else none)
    problems = int((failed | shaky).sum())
    if problems:
        print(f"ketephys fit: {problems} group(s) failed or are not identifiable "
              "(see the error / identifiability_reason columns)", file=sys.stderr)
        return EXIT_FIT_PROBLEM
    return 0


register = subcommand_registrar(
    "fit", run, _add_arguments,
    help="fit per-region decay time constants to a table",
    description="Fit per-group decay (tau, half-life, CIs) to a tidy per-visit table and "
                "write the summary CSV.")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m ketephys.longitudinal.cli TABLE.csv ...``).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code of :func:`run`.
    """
    parser = argparse.ArgumentParser(prog="ketephys fit")
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
