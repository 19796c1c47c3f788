"""Slow, exact physics: flux, form factors, cross sections, arrival times.

Nothing here is on the scan path: the build integrates these once into tables, and the tests
use them as the direct-integration twin of every table-based prediction.
"""
