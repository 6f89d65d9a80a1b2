"""Server: FastAPI app, websockets, database. Owns sockets, clocks and storage.

Entry points: ``server.app.create_app(settings, wiring)`` (nothing is built at import),
``server.pipeline`` (the seam to positioning, zones and triggers, wired in ``server.wiring``),
``server.seed.seed_store`` and the ``aislecast serve | seed | db`` commands.
"""
