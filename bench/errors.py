"""The one error every benchmark script stops on."""

from __future__ import annotations


class BenchError(RuntimeError):
    """The benchmark cannot go on: the message says why."""
