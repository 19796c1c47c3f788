"""The build step: detector specs (``detectors/*.toml``) and the integrator writing tables."""
