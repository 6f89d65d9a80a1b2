from aislecast.cli import app

app()
