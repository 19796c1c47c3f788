"""Beyond Wilks: toys, Feldman–Cousins, CLs, coverage and Bayesian posteriors."""
