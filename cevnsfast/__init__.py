"""cevnsfast — fast coherent elastic neutrino-nucleus scattering (CEvNS) phenomenology.

Design (see ``docs/architecture.md``): a one-off build integrates flux × cross section ×
detector response per *operator structure* into Zarr tables; predictions at any coupling
point are then a quadratic form N_b = Σ x_i x_j T_ij,b evaluated by numba kernels.

Units: MeV and cm inside the physics code; keVnr / keVee / PE only at the detector edge,
and names say which (``t_keVnr``, ``e_pe``).
"""

__version__ = "0.1.0"
