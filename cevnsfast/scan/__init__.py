"""Profile-likelihood scans of couplings: confidence levels, intervals and contours."""
