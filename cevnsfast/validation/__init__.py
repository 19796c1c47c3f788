"""Face-level checks of the engine against published analyses: the CsI 2021 normalisation
budget (``budget``) and the published-numbers comparison (``report``), written to
docs/normalisation.md and docs/validation.md by ``python -m cevnsfast.validation``."""
