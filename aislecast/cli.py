"""The ``aislecast`` command: one sub-command per module in ``aislecast.commands``."""

from __future__ import annotations

import typer

from aislecast.commands import demo, replay

app = typer.Typer(no_args_is_help=True, help="Aislecast: indoor location-triggered retail media.")


@app.callback()
def main() -> None:
    """Aislecast: indoor location-triggered retail media."""


app.command("replay", context_settings={"allow_extra_args": True})(replay.replay)
app.command("demo")(demo.demo)
