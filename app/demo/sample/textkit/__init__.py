"""textkit: small text utilities (the sample project of `swarm demo`)."""

from textkit.core import normalize_whitespace

__all__ = ["normalize_whitespace"]
