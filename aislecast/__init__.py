"""Aislecast command line and shared paths."""

__version__ = "0.1.0"
