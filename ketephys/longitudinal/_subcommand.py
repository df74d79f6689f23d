"""What the longitudinal subcommands (``ketephys fit``, ``ketephys plan``) share: the
``register(subparsers)`` function that adds each to the ``ketephys`` parser, and how bad
input ends them.

Bad input is a :class:`~ketephys.errors.KetephysError` raised while the command reads and
checks what it was given (a missing table, an unknown column, a bad YAML field): it is
printed on stderr as ``ketephys COMMAND: error: MESSAGE`` and the command exits with
:data:`EXIT_BAD_INPUT`, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import KetephysError

#: Exit status of a subcommand given bad input (the message is on stderr).
EXIT_BAD_INPUT = 2

_REGISTER_DOC = """Add the ``{name}`` subcommand to an argparse ``subparsers`` object.

``ketephys/cli.py`` calls it to build the ``ketephys`` parser.

Parameters
----------
subparsers : argparse._SubParsersAction
    What ``ArgumentParser.add_subparsers()`` returned.

Returns
-------
argparse.ArgumentParser
    The ``{name}`` parser (its ``func`` default is the module's ``run``).
"""


def subcommand_registrar(
    name: str, run: Callable[[argparse.Namespace], int],
    add_arguments: Callable[[argparse.ArgumentParser], None], *, help: str, description: str,
) -> Callable[[argparse._SubParsersAction], argparse.ArgumentParser]:
    """The ``register(subparsers)`` function of subcommand ``name``: it adds a parser with
    this ``help`` and ``description``, its arguments from ``add_arguments`` and ``run`` as
    its ``func``, and carries the docstring that says so."""

    def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help, description=description)
        add_arguments(parser)
        parser.set_defaults(func=run)
        return parser

    register.__doc__ = _REGISTER_DOC.format(name=name)
    register.__qualname__ = "register"
    return register


def report_bad_input(command: str, exc: KetephysError) -> int:
    """Print ``ketephys COMMAND: error: MESSAGE`` on stderr; return :data:`EXIT_BAD_INPUT`."""
    print(f"ketephys {command}: error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT
