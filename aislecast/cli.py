"""The ``aislecast`` command: one sub-command per module in ``aislecast.commands``."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Aislecast: indoor location-triggered retail media.")


@app.callback()
def main() -> None:
    """Aislecast: indoor location-triggered retail media."""


def _register_commands() -> None:
    from aislecast.commands import simulate

    simulate.register(app)


_register_commands()
