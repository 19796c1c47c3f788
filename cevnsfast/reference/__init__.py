"""The slow direct-integration twins of the table path (detector × model × physics).

Every table-based prediction has one here: flux × cross section × response integrated at the
point asked for, with no table. Tests hold the tables to them (≤1e-6 relative) and the
benchmarks time against them. This layer sits above ``detectors`` and ``models`` and below
the likelihoods; nothing on the scan path uses it.
"""
