"""Click commands of the audio layer, ``devices`` and ``doctor``; voice_coach.cli registers them."""

from __future__ import annotations

import json
import logging

import click

from voice_coach import doctor as doctor_mod
from voice_coach.audio.devices import list_devices

_LOGGER = logging.getLogger(__name__)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
def devices(as_json: bool) -> None:
    """List audio input and output devices; '*' marks the defaults."""
    found = list_devices()
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in found], indent=2))
        return
    for title, attr, default_attr in (
        ("Input devices", "inputs", "is_default_input"),
        ("Output devices", "outputs", "is_default_output"),
    ):
        rows = [d for d in found if getattr(d, attr) > 0]
        click.echo(f"{title}:")
        if not rows:
            click.echo("  (none)")
        for d in rows:
            mark = "*" if getattr(d, default_attr) else " "
            click.echo(
                f" {mark}{d.index:>3}  {d.name}  ({getattr(d, attr)} ch,"
                f" {d.default_samplerate:.0f} Hz" + (f", {d.hostapi})" if d.hostapi else ")")
            )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check speech engines, audio devices and folders; print how to fix each problem."""
    results = doctor_mod.run_checks()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "status": r.status.value,
                        "detail": r.detail,
                        "fix": r.fix,
                        "essential": r.essential,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        click.echo(doctor_mod.report(results))
    ctx.exit(doctor_mod.exit_code(results))
