"""Server: FastAPI app, websockets, database. Owns sockets, clocks and storage."""
