"""What a report section produces: figures and tables with captions, for the reproduce index."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Artifact:
    """One output of ``cevnsfast reproduce``: a figure (PNG + PDF) or a table (Markdown + CSV).

    ``path`` is the PNG (figures) or Markdown (tables) file; ``extra`` lists sibling files
    (the PDF, the CSV). ``markdown`` holds a table's Markdown text for inlining in the index.
    """

    section: str
    title: str
    kind: str  # "figure" | "table" | "note"
    path: Path | None
    caption: str = ""
    extra: list[Path] = field(default_factory=list)
    markdown: str = ""
