"""The ``aislecast`` command: one sub-command per module in ``aislecast.commands``."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Aislecast: indoor location-triggered retail media.")


@app.callback()
def main() -> None:
    """Aislecast: indoor location-triggered retail media."""


def _register_commands() -> None:
    from aislecast.commands import db, demo, demo_live, replay, report, seed, serve, simulate

    app.command("replay", context_settings={"allow_extra_args": True})(replay.replay)
    app.command("demo")(demo.demo)
    simulate.register(app)
    demo_live.register(app)
    app.command("serve")(serve.serve)
    app.command("seed")(seed.seed)
    app.command("report")(report.report)
    app.add_typer(db.app, name="db")


_register_commands()
