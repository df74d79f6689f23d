"""The ``ketephys`` command.

Subcommands: ``demo``, ``run``, ``config``, ``info``, ``simulate`` and, when the
longitudinal module provides it, ``fit``. Exit status: 0 success, 1 when any recording
failed (or the run was aborted), 2 for a usage or configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["main", "build_parser"]

log = logging.getLogger("ketephys")


@contextmanager
def _cli_logging(verbose: int, quiet: bool) -> Iterator[None]:
    """Log ketephys messages through rich on stderr for one command, then restore the
    loggers as they were (``main`` may run inside a script, a notebook or a test)."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO,
                                         logging.DEBUG)[min(verbose, 2)]
    handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False,
                          rich_tracebacks=False)
    root = logging.getLogger("ketephys")
    runner = logging.getLogger("ketephys.pipeline.runner")
    saved = (list(root.handlers), root.level, root.propagate, runner.level)
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    if not quiet and verbose == 0:
        runner.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]
        runner.setLevel(saved[3])


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bar")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="more logging (-v: each recording, -vv: debug)")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="YAML configuration (see `ketephys config --example`)")
    p.add_argument("--out", help="output folder (default: run.out of the config)")
    p.add_argument("--n-jobs", type=int, help="local worker processes (default 1)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--scheduler", metavar="ADDRESS",
                        help="a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    target.add_argument("--scheduler-file", metavar="FILE", help="a Dask scheduler file")
    target.add_argument("--cluster", choices=["slurm"],
                        help="start workers through dask-jobqueue (run.slurm settings)")
    p.add_argument("--subjects", nargs="+", metavar="SUB", help="only these subjects")
    p.add_argument("--sessions", nargs="+", metavar="SES", help="only these sessions")
    p.add_argument("--force", action="store_true", help="recompute cached recordings")
    p.add_argument("--on-error", choices=["continue", "abort"],
                   help="after a failed recording (default: continue)")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    _add_common(p)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ketephys",
        description="How long does ketamine-induced neuroplasticity last? Batch analysis "
                    "of EEG, TMS-EEG, LFP and field-EPSP studies with per-region decay fits.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"ketephys {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="simulate a small study and run the demo config on it",
                       description="Simulate a study with every modality (3 regions, "
                                   "several visits, two doses) into real file formats, run "
                                   "the demo config and print the per-region decay table.")
    p.add_argument("--out", default="ketephys-demo", help="output folder (default "
                   "./ketephys-demo)")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="simulation seed")
    p.add_argument("--force", action="store_true", help="recompute cached recordings")
    _add_common(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("run", help="run a configuration over a study",
                       description="Discover the recordings, analyse each (cached, "
                                   "failures isolated), fit the decays, write the outputs.")
    _add_run_args(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("config", help="print an example config or check one")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--example", action="store_true", help="print a complete commented config")
    g.add_argument("--check", metavar="CONFIG", help="validate a config and list what it "
                   "finds")
    _add_common(p)
    p.set_defaults(func=_cmd_config)

    p = sub.add_parser("info", help="show what ketephys reads from a file")
    p.add_argument("file")
    p.add_argument("--modality", help="read as this modality (eeg, lfp, tms-eeg, fepsp, "
                   "patch)")
    _add_common(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("simulate", help="write the simulated demo study",
                       description="Write the simulated study (files + manifest.csv + "
                                   "truth.json) that `ketephys demo` analyses.")
    p.add_argument("--out", required=True, help="folder to write the study into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-subjects", type=int, default=None,
                   help="subjects (default: the demo's)")
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes")
    _add_common(p)
    p.set_defaults(func=_cmd_simulate)

    try:
        from .longitudinal.cli import register
    except ImportError:
        pass
    else:
        register(sub)
    try:
        from .longitudinal.plan_cli import register as register_plan
    except ImportError:
        pass
    else:
        register_plan(sub)
    return parser


# ---------------------------------------------------------------------------- commands
def _print_run_summary(result, console) -> None:
    from rich.table import Table

    console.print(f"{len(result.features)} feature rows; recordings computed "
                  f"{result.n_computed}, from cache {result.n_cached}, failed "
                  f"{result.n_failed}")
    if result.n_failed:
        console.print(f"[red]failures listed in {result.out_dir / 'failures.csv'}")
    fits = result.fits
    if fits is not None and not fits.empty:
        table = Table(title="decay fits (hours, 95 % CI)")
        for col in ("fit", "region", "tau", "95 % CI", "half-life", "n"):
            table.add_column(col, overflow="fold")
        for _, row in fits.iterrows():
            if "tau_h" not in fits.columns or row.get("tau_h") != row.get("tau_h"):
                table.add_row(str(row.get("fit")), "", "", str(row.get("error", "")), "", "")
                continue
            table.add_row(str(row["fit"]), _fmt(row.get("region", row.get("group"))),
                          _fmt(row["tau_h"]),
                          f"[{_fmt(row.get('tau_ci_low_h'))}, {_fmt(row.get('tau_ci_high_h'))}]",
                          _fmt(row.get("half_life_h")), _fmt(row.get("n_subjects")))
        console.print(table)
    console.print(f"outputs in {result.out_dir}")
    if "report" in result.paths:
        console.print(f"report: {result.paths['report']}")


def _fmt(value) -> str:
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return "" if value is None else str(value)


def _cmd_run(args) -> int:
    from rich.console import Console

    from .pipeline import load_config, run

    cfg = load_config(args.config)
    result = run(cfg, out=args.out, n_jobs=args.n_jobs, scheduler=args.scheduler,
                 scheduler_file=args.scheduler_file, cluster=args.cluster,
                 subjects=args.subjects, sessions=args.sessions, force=args.force,
                 on_error=args.on_error, progress=not args.quiet,
                 report=False if args.no_report else None)
    if not args.quiet:
        _print_run_summary(result, Console())
    return 0 if result.ok else 1


def _cmd_demo(args) -> int:
    from rich.console import Console

    from .pipeline.demo import run_demo

    console = Console()
    result, table = run_demo(out=args.out, n_jobs=args.n_jobs, seed=args.seed,
                             force=args.force, progress=not args.quiet)
    if not args.quiet:
        _print_run_summary(result, console)
        if table is not None and not table.empty:
            from rich.table import Table

            view = Table(title="demo: simulated tau vs estimate (hours)")
            for col in ("fit", "region", "true tau", "tau", "95 % CI", "CI holds truth"):
                view.add_column(col, overflow="fold")
            for _, row in table.iterrows():
                view.add_row(str(row["fit"]), str(row["region"]), _fmt(row["true_tau_h"]),
                             _fmt(row["tau_h"]),
                             f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]",
                             "yes" if row["ci_contains_truth"] else "NO")
            console.print(view)
    return 0 if result.ok else 1


def _cmd_config(args) -> int:
    if args.example:
        from .pipeline.config import example_config

        sys.stdout.write(example_config())
        return 0
    from .pipeline import discover, load_config

    cfg = load_config(args.check)
    specs = discover(cfg)
    counts: dict[str, int] = {}
    for s in specs:
        counts[s.modality] = counts.get(s.modality, 0) + 1
    print(f"{args.check}: valid; {len(specs)} recordings found "
          f"({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))})")
    return 0


def _cmd_info(args) -> int:
    from .io import info

    text = info(args.file, modality=args.modality) if args.modality else info(args.file)
    print(text if isinstance(text, str) else _describe(text))
    return 0


def _describe(obj) -> str:
    """``ketephys.io.info``'s dict as aligned ``key: value`` lines."""
    if not isinstance(obj, dict):
        return str(obj)
    lines = []
    width = max((len(str(k)) for k in obj), default=0)
    for key, value in obj.items():
        if key == "channels" and isinstance(value, list):
            text = ", ".join(f"{c.get('name')} ({c.get('type')}, {c.get('unit') or '-'})"
                             if isinstance(c, dict) else str(c) for c in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        else:
            text = str(value)
        lines.append(f"{str(key).ljust(width)} : {text}")
    return "\n".join(lines)


def _cmd_simulate(args) -> int:
    from .pipeline.demo import simulate_demo_study

    manifest, _ = simulate_demo_study(args.out, seed=args.seed, n_subjects=args.n_subjects,
                                      n_jobs=args.n_jobs)
    print(f"{len(manifest)} recordings written to {args.out} "
          f"(manifest.csv, truth.json)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ketephys`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import KetephysError

    with _cli_logging(getattr(args, "verbose", 0) or 0, getattr(args, "quiet", False)):
        try:
            return int(args.func(args) or 0)
        except KetephysError as err:
            print(f"ketephys: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("ketephys: interrupted; finished recordings are cached, rerun to resume",
                  file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
