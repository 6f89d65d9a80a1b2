"""Benchmarks: each module runs as a script (``python benchmarks/NAME.py``), prints a table and a
closing line of figures. They compare variants side by side in one run, since machines are noisy."""
