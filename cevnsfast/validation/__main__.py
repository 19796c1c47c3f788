"""``python -m cevnsfast.validation [DOCS_DIR]``: write validation.md and normalisation.md."""

import sys
from pathlib import Path

from cevnsfast.paths import source_checkout_root
from cevnsfast.validation.report import normalisation_markdown, validation_markdown


def main(argv: list[str]) -> None:
    from cevnsfast.build_tables import enable_builds

    enable_builds()  # a generator script is a face: it may build the tables it needs
    root = source_checkout_root()
    docs = Path(argv[0]) if argv else (root / "docs" if root else Path.cwd())
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("normalisation.md", normalisation_markdown()),
        ("validation.md", validation_markdown()),
    ):
        (docs / name).write_text(text, encoding="utf-8")
        print(f"wrote {docs / name}")


if __name__ == "__main__":
    main(sys.argv[1:])
