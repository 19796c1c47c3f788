"""Likelihoods: real-data experiments (CsI 2021, LAr 2020), Asimov future detectors, and
their combination by name (``"csi2021+nai+cryocsi"``) with independent nuisances."""
