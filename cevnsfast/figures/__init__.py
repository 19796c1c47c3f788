"""Paper figures built on the scanner: allowed regions of coupling pairs (Figs. 6–9)."""
