"""The one error type a bad detector spec raises."""

from pathlib import Path


class SpecError(ValueError):
    """A detector spec field is missing or out of range; the message names the spec file (and
    line, when known), the field and the allowed range."""

    def __init__(
        self,
        spec_name: str,
        field: str,
        problem: str,
        source: str | Path | None = None,
        line: int | None = None,
    ):
        self.spec_name, self.field, self.problem = spec_name, field, problem
        self.source, self.line = source, line
        where = "" if source is None else f" ({source}{'' if line is None else f', line {line}'})"
        super().__init__(f"detector spec {spec_name!r}{where}: field '{field}' {problem}")

    def __reduce__(self):  # keep the structured fields across pickling (Dask workers)
        return type(self), (self.spec_name, self.field, self.problem, self.source, self.line)
