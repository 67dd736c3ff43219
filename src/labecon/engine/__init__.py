"""The economic model: pure functions over arrays of samples (DESIGN §4)."""

from labecon.engine.run import simulate_chunk

__all__ = ["simulate_chunk"]
