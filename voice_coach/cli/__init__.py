"""The ``voice-coach`` command line: the group, logging, domain errors -> one-line messages.

The commands live in modules named after what the user is doing: practice (practice, demo,
scenarios), sessions (sessions, show, replay, export, delete), coaching (report, progress) and
engines (models, transcribe, say, devices, doctor). They hold argument handling and terminal
views only; library code and bench/ never import this package.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from voice_coach import __version__
from voice_coach.errors import CoachError
from voice_coach.textsafe import printable, printable_block

_LOGGER = logging.getLogger(__name__)


class _SafeFormatter(logging.Formatter):
    """Log lines name files and values from the home folder: never let them drive a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The record, formatted, with control characters shown (tracebacks keep their lines)."""
        return printable_block(super().format(record))


COMMAND_MODULES: dict[str, str] = {
    "practice": "practice", "demo": "practice", "scenarios": "practice",
    "sessions": "sessions", "show": "sessions", "replay": "sessions", "export": "sessions",
    "delete": "sessions",
    "report": "coaching", "progress": "coaching",
    "models": "engines", "transcribe": "engines", "say": "engines", "devices": "engines",
    "doctor": "engines",
}
"""Command -> the module of this package defining it (in its ``COMMANDS``), imported only when
the command runs: ``demo`` and ``practice`` start the greeting without ``doctor``'s imports."""


class CoachGroup(click.Group):
    """A click group that turns domain errors and Ctrl-C into one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, without importing the commands."""
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module the first time."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"{__name__}.{COMMAND_MODULES[cmd_name]}")
            for each in module.COMMANDS:
                self.add_command(each)
            command = super().get_command(ctx, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, mapping errors to messages."""
        try:
            return super().invoke(ctx)
        except CoachError as exc:
            click.echo(f"voice-coach: {printable(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("voice-coach: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): nothing more to say.
            sys.stderr.close()
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except OSError as exc:
            # A permission problem (or another file error) not turned into a CoachError on
            # the way: still one line naming the file, exit 4 like other storage problems.
            where = f" {printable(str(exc.filename))}" if exc.filename else ""
            click.echo(f"voice-coach: cannot use{where}: "
                       f"{printable(exc.strerror or str(exc))}", err=True)
            sys.exit(4)
        except Exception as exc:
            _LOGGER.debug("internal error", exc_info=True)
            click.echo(f"voice-coach: internal error: {type(exc).__name__}: "
                       f"{printable(str(exc))} "
                       "(run with -vv for details)", err=True)
            sys.exit(1)


EXIT_CODES = {0: "done", 1: "failure", 2: "bad input", 3: "no audio device",
              4: "storage (disk full, read-only, permissions)", 130: "interrupted"}
"""Every exit code voice-coach uses (documented in --help and the README)."""


@click.group(cls=CoachGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: " + ", ".join(f"{c} {m}" for c, m in EXIT_CODES.items()) + ".")
@click.version_option(__version__, prog_name="voice-coach")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Practise informal interviews out loud, offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="voice-coach: %(levelname)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter("voice-coach: %(levelname)s: %(message)s"))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="voice-coach")
