"""``python -m cevnsfast``: the command line (``cevnsfast.cli``)."""

from cevnsfast.cli import run

run()
