"""The ``ketephys`` command.

Subcommands: ``demo``, ``run``, ``config``, ``info``, ``simulate`` and, when the
longitudinal module provides it, ``fit``. Exit status:

===  ==================================================================================
0    success
1    a recording failed (failures.csv), or the run was aborted
2    usage, configuration or metadata error (nothing was analysed); ``config --check``
     found problems
3    every recording succeeded but a decay fit failed or is not identifiable
     (decay_fits.csv says why)
4    the output folder cannot be used: not a folder, read-only, disk full, or another
     run holds its lock (finished recordings stay cached)
130  interrupted (Ctrl-C), 143 terminated (SIGTERM); finished recordings are cached
===  ==================================================================================
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["main", "build_parser"]

log = logging.getLogger("ketephys")

#: Exit statuses of the ``ketephys`` command (see the module docstring).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_FIT, EXIT_OUTPUT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (workers stopped, finished recordings cached)."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`_Terminated` in the main thread on SIGTERM for one command."""
    def handler(signum, frame):
        raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    """The argument parser with every subcommand.

    Building it imports no analysis library (``ketephys --help`` stays fast); each
    subcommand imports what it needs when it runs.

    Returns
    -------
    argparse.ArgumentParser
        The ``ketephys`` parser; a parsed command's ``func`` runs it.
    """
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
    from rich.markup import escape
    from rich.table import Table

    console.print(f"{len(result.features)} feature rows; recordings computed "
                  f"{result.n_computed}, from cache {result.n_cached}, failed "
                  f"{result.n_failed}")
    if result.n_failed:
        console.print(f"[red]failures listed in {result.out_dir / 'failures.csv'}")
    fits = result.fits
    if fits is not None and not fits.empty:
        table = Table(title="decay fits (hours, 95 % CI)")
        for col in ("fit", "region", "identifiable", "tau", "95 % CI", "half-life", "n"):
            table.add_column(col, overflow="fold")
        for _, row in fits.iterrows():
            region = _fmt(row.get("region", row.get("group")))
            if "tau_h" not in fits.columns or row.get("tau_h") != row.get("tau_h"):
                table.add_row(str(row.get("fit")), region, "[red]no fit", "",
                              escape(_fmt(row.get("error"))), "", "")
                continue
            ok = row.get("identifiable", True) is not False
            why = _fmt(row.get("identifiability_reason")).split(";")[0]
            why = why if len(why) <= 48 else why[:47] + "…"
            mark = "yes" if ok else f"[red]NO[/red]: {escape(why)}"
            dim = "" if ok else "[dim]"
            table.add_row(str(row["fit"]), region, mark, dim + _fmt(row["tau_h"]),
                          f"{dim}[{_fmt(row.get('tau_ci_low_h'))}, "
                          f"{_fmt(row.get('tau_ci_high_h'))}]",
                          dim + _fmt(row.get("half_life_h")), _fmt(row.get("n_subjects")))
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


def _status(result) -> int:
    """Exit status of a finished run: 1 before 3 before 0."""
    if not result.ok:
        return EXIT_FAILED
    problems = result.fit_problems
    if problems:
        log.error("%d decay fit row(s) failed or are not identifiable:\n  %s",
                  len(problems), "\n  ".join(problems))
        return EXIT_FIT
    return EXIT_OK


def _cmd_run(args) -> int:
    from rich.console import Console

    from .errors import ConfigError
    from .pipeline import load_config, run

    if args.n_jobs is not None and args.n_jobs < 1:
        raise ConfigError(f"--n-jobs must be 1 or more, got {args.n_jobs}")
    cfg = load_config(args.config)
    result = run(cfg, out=args.out, n_jobs=args.n_jobs, scheduler=args.scheduler,
                 scheduler_file=args.scheduler_file, cluster=args.cluster,
                 subjects=args.subjects, sessions=args.sessions, force=args.force,
                 on_error=args.on_error, progress=not args.quiet,
                 report=False if args.no_report else None)
    if not args.quiet:
        _print_run_summary(result, Console())
    return _status(result)


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
    return _status(result)


def _cmd_config(args) -> int:
    if args.example:
        from .pipeline.config import example_config

        sys.stdout.write(example_config())
        return 0
    from .pipeline import load_config
    from .pipeline.check import check_config

    cfg = load_config(args.check)
    specs, problems = check_config(cfg)
    counts: dict[str, int] = {}
    for s in specs:
        counts[s.modality] = counts.get(s.modality, 0) + 1
    found = (f"{len(specs)} recordings found "
             f"({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))})")
    if problems:
        print(f"{args.check}: {len(problems)} problem(s); {found}", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.check}: valid; {found}; every input exists and its header opens")
    return EXIT_OK


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
    """Entry point of the ``ketephys`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``ketephys`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (see the module docstring): a :class:`~ketephys.errors.KetephysError`
        is printed on stderr and gives 2 (or the status it carries), Ctrl-C 130, SIGTERM
        143. Logging set up for the command is restored afterwards.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import KetephysError

    with _cli_logging(getattr(args, "verbose", 0) or 0, getattr(args, "quiet", False)), \
            _sigterm_as_interrupt():
        try:
            return int(args.func(args) or 0)
        except KetephysError as err:
            # an error may carry its own status (OutputFolderError: EXIT_OUTPUT)
            status = getattr(err, "exit_status", EXIT_USAGE)
            kind = "output folder error" if status == EXIT_OUTPUT else "error"
            print(f"ketephys: {kind}: {err}", file=sys.stderr)
            return status
        except KeyboardInterrupt as err:
            what = "terminated" if isinstance(err, _Terminated) else "interrupted"
            print(f"ketephys: {what}; finished recordings are cached, rerun to resume",
                  file=sys.stderr)
            return EXIT_TERMINATED if isinstance(err, _Terminated) else EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
