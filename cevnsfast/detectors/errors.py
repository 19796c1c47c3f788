"""The one error type a bad detector spec raises."""


class SpecError(ValueError):
    """A detector spec field is missing or out of range; the message names field and range."""

    def __init__(self, spec_name: str, field: str, problem: str):
        self.spec_name = spec_name
        self.field = field
        super().__init__(f"detector spec {spec_name!r}: field '{field}' {problem}")
