"""Physical constants in MeV / cm / ns units.

Sources: PDG 2022 (R.L. Workman et al., PTEP 2022 083C01) and CODATA 2018, as listed in
``docs/physics.md`` §Constants. Natural units (ħ = c = 1) with energies in MeV; ``HBARC_MEV_CM``
converts MeV⁻² to cm².
"""

G_F_MEV2 = 1.1663788e-11
"""Fermi constant G_F in MeV⁻² (PDG 2022: 1.1663788e-5 GeV⁻²)."""

M_MU_MEV = 105.6583755
"""Muon mass in MeV (PDG 2022)."""

M_PI_MEV = 139.57039
"""Charged-pion mass in MeV (PDG 2022)."""

M_P_MEV = 938.27208816
"""Proton mass in MeV (CODATA 2018)."""

M_N_MEV = 939.56542052
"""Neutron mass in MeV (CODATA 2018)."""

M_E_MEV = 0.51099895
"""Electron mass in MeV (CODATA 2018)."""

AMU_MEV = 931.49410242
"""Atomic mass unit in MeV (CODATA 2018)."""

N_AVOGADRO = 6.02214076e23
"""Avogadro constant in mol⁻¹ (exact, SI 2019)."""

HBARC_MEV_FM = 197.3269804
"""ħc in MeV fm (CODATA 2018)."""

HBARC_MEV_CM = HBARC_MEV_FM * 1e-13
"""ħc in MeV cm; (ħc)² converts a cross section from MeV⁻² to cm²."""

ALPHA_EM = 1.0 / 137.035999084
"""Fine-structure constant at zero momentum transfer (CODATA 2018)."""

TAU_PI_NS = 26.033
"""Charged-pion lifetime in ns (PDG 2022)."""

TAU_MU_NS = 2196.98
"""Muon lifetime in ns (PDG 2022)."""

SIN2_THETA_W_DEFAULT = 0.23857
"""Weak mixing angle at zero momentum transfer, PDG 2022 (Erler & Ferro-Hernández 2018 give
0.23868). [assumed default: the seed paper's value was lost in extraction.] It is a setting:
every function taking ``sin2_theta_w`` accepts another value."""

E_PROMPT_MEV = (M_PI_MEV**2 - M_MU_MEV**2) / (2.0 * M_PI_MEV)
"""Energy of the prompt ν_μ from π⁺ → μ⁺ ν_μ at rest: (m_π² − m_μ²)/(2 m_π) ≈ 29.79 MeV."""

E_MAX_DELAYED_MEV = M_MU_MEV / 2.0
"""End point of the delayed μ⁺ → e⁺ ν_e ν̄_μ spectra at rest: m_μ/2 ≈ 52.83 MeV."""
