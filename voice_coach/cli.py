"""The ``voice-coach`` command line: commands, logging, domain errors -> one-line messages."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from voice_coach import __version__
from voice_coach.errors import CoachError

_LOGGER = logging.getLogger(__name__)


class CoachGroup(click.Group):
    """A click group that turns domain errors and Ctrl-C into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, mapping errors to messages."""
        try:
            return super().invoke(ctx)
        except CoachError as exc:
            click.echo(f"voice-coach: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("voice-coach: interrupted", err=True)
            sys.exit(130)


@click.group(cls=CoachGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voice-coach")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Practise informal interviews out loud, offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="voice-coach")
