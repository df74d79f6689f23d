"""``ketephys fit TABLE.csv``: decay fits from the command line.

The pipeline's ``ketephys/cli.py`` calls :func:`register` to add the subcommand;
``python -m ketephys.longitudinal.cli`` runs it on its own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..errors import ConfigError, KetephysError

__all__ = ["register", "run", "main"]

logger = logging.getLogger(__name__)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", help="tidy CSV (or .parquet/.tsv) table, long or wide format")
    p.add_argument("--value", default="value",
                   help="value column, or a measure name of a long table (default: value)")
    p.add_argument("--measure", default=None, help="keep only this measure of a long table")
    p.add_argument("--group", default="region", help="grouping column (default: region)")
    p.add_argument("--time", default="hours_since_dose", help="hours-since-dose column")
    p.add_argument("--subject", default="subject", help="subject column")
    p.add_argument("--model", default="exponential", choices=["exponential", "bateman", "auto"])
    p.add_argument("--baseline", default="pre-dose", choices=["pre-dose", "estimate"])
    p.add_argument("--covariates", default="", help="comma-separated, e.g. dose,genotype")
    p.add_argument("--no-random-effects", action="store_true",
                   help="pooled least squares instead of the population fit")
    p.add_argument("--ci", default="profile", choices=["profile", "bootstrap", "both", "none"])
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default=None,
                   help="summary CSV to write (default: <table>_decay_fits.csv beside the table)")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``fit`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("fit", help="fit per-region decay time constants to a table",
                              description="Fit per-group decay (tau, half-life, CIs) to a "
                                          "tidy per-visit table and write the summary CSV.")
    _add_arguments(p)
    p.set_defaults(func=run)
    return p


def _read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise ConfigError("table not found", path)
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ConfigError(f"cannot read the table: {exc}", path) from None


def run(args: argparse.Namespace) -> int:
    """Run ``ketephys fit``: print the summary and write it to CSV. Returns the exit code."""
    from .decay import fit_decay

    path = Path(args.table)
    try:
        table = _read_table(path)
        covs = tuple(c.strip() for c in args.covariates.split(",") if c.strip())
        fit = fit_decay(table, value=args.value, time=args.time, subject=args.subject,
                        group=args.group, model=args.model, baseline=args.baseline,
                        covariates=covs, random_effects=not args.no_random_effects,
                        ci=args.ci, n_boot=args.n_boot, seed=args.seed, measure=args.measure,
                        path=str(path))
    except KetephysError as exc:
        print(f"ketephys fit: error: {exc}", file=sys.stderr)
        return 2
    summary = fit.summary()
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}_decay_fits.csv")
    summary.to_csv(out, index=False)
    cols = [c for c in (*fit.key_names, "model", "tau_h", "tau_ci_low_h", "tau_ci_high_h",
                        "half_life_h", "t10_h", "n_subjects", "identifiable")
            if c in summary.columns]
    print(summary[cols].to_string(index=False))
    print(f"summary written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m ketephys.longitudinal.cli TABLE.csv ...``)."""
    parser = argparse.ArgumentParser(prog="ketephys fit")
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
