"""Coupling sets: names, and how each coupling enters the quadratic form."""
