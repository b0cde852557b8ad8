"""Coaching: ``report`` on one session and ``progress`` across sessions."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import click

from voice_coach.errors import StorageError
from voice_coach.textsafe import json_safe, printable_block

_LOGGER = logging.getLogger(__name__)


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.option("--no-audio", is_flag=True,
              help="Do not read the saved audio (no filled-pause count; faster).")
def report(session_id: str, as_json: bool, no_audio: bool) -> None:
    """Coaching feedback on a saved session (ID, a unique prefix, or 'last')."""
    from voice_coach.feedback import metrics
    from voice_coach.feedback.report import render_text, to_json
    from voice_coach.transcripts.store import SessionStore

    session = SessionStore().load(session_id)
    loader = metrics.no_audio if no_audio else metrics.read_answer_audio
    result = metrics.analyse(session, audio_loader=loader)
    click.echo(json_safe(to_json(result)) if as_json else printable_block(render_text(result)),
               nl=as_json)


@click.command()
@click.option("--scenario", "-s", default=None, help="Only sessions of this scenario.")
@click.option("--chart", "chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the SVG chart here (default: progress.svg in the voice-coach folder).")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (no chart).")
@click.option("--no-audio", is_flag=True, help="Do not read the saved audio (faster).")
def progress(scenario: str | None, chart: Path | None, as_json: bool, no_audio: bool) -> None:
    """How your numbers move across sessions: a table, sparklines and an SVG chart."""
    from voice_coach import config
    from voice_coach.feedback import metrics
    from voice_coach.feedback.progress import (
        progress_rows,
        progress_svg,
        render_table,
    )
    from voice_coach.fileio import write_private
    from voice_coach.transcripts.store import SessionStore, ensure_private_dir

    loader = metrics.no_audio if no_audio else metrics.read_answer_audio
    rows = progress_rows(SessionStore().sessions(), scenario, audio_loader=loader)
    if as_json:
        click.echo(json_safe(json.dumps([asdict(r) for r in rows], indent=2,
                                        ensure_ascii=False)))
        return
    if not rows:
        which = f" for scenario '{scenario}'" if scenario else ""
        click.echo(f"No sessions with answers{which} yet. Try: voice-coach practice")
        return
    click.echo(printable_block(render_table(rows)), nl=False)
    if chart is None:
        ensure_private_dir(config.home())
        chart = config.home() / "progress.svg"
    try:
        write_private(chart, progress_svg(rows), make_folder=True)
    except OSError as exc:
        raise StorageError(f"cannot write {chart}: {exc.strerror or exc}") from None
    click.echo(f"\nChart: {chart}")


COMMANDS = (report, progress)
