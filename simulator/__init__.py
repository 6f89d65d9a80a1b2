"""Simulator: shoppers walking a store, emitting what their phones would sense."""
