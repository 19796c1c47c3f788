"""The build step: detector specs (``detectors/*.toml``) and the integrator writing tables."""


def enable_builds() -> None:
    """Let evaluation build a missing detector or model table on first use.

    Evaluation (rates, likelihoods, scans) never imports the build step; the face decides.
    The CLI and ``reproduce`` call this; so may a script or notebook that wants tables built
    on demand (``cevnsfast.tables.set_builders``).
    """
    from cevnsfast.build_tables.build import build_detector
    from cevnsfast.build_tables.model_tables import build_model_table
    from cevnsfast.tables import set_builders

    set_builders(detector=build_detector, model=build_model_table)
