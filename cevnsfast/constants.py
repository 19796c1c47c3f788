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

G_V_PROTON_RADIATIVE = 0.0298
"""Radiatively corrected neutrino–proton vector coupling g_V^p at sin²θ_W =
``SIN2_THETA_W_RADIATIVE_REFERENCE``: PDG 2015 "Electroweak model and constraints on new
physics" (Erler & Freitas), after Erler & Su, Prog. Part. Nucl. Phys. 71 (2013) 119 — the
ν_μ value, which contains the ν_μ charge radius. COHERENT's CEvNS rate code uses it
(github.com/schol/dukecevns, xscns.cc ``sm_vector_couplings``, "Default is 2015 PDG, from
Erler paper": gVp = 0.0298, gVn = −0.5117; later versions split it into 0.01836 plus a
flavour-dependent charge-radius term, 0.0298 again for ν_μ). Used by ``weak_charge =
"radiative"`` (``physics.cross_sections.nucleon_vector_couplings``)."""

G_V_NEUTRON_RADIATIVE = -0.5117
"""Radiatively corrected neutrino–neutron vector coupling g_V^n (same sources as
``G_V_PROTON_RADIATIVE``; tree level −1/2)."""

SIN2_THETA_W_RADIATIVE_REFERENCE = SIN2_THETA_W_DEFAULT
"""sin²θ_W (low-energy, MS-bar at q → 0) at which the radiative couplings above hold: PDG's
couplings are computed with the SM value, whose low-energy equivalent is 0.2386 (PDG 2022:
0.23857). Away from it g_V^p moves with the tree-level slope, g_V^p(s²) = g_V^p,rad −
2 (s² − s²_ref): the radiative corrections enter as constants (docs/physics.md)."""

E_PROMPT_MEV = (M_PI_MEV**2 - M_MU_MEV**2) / (2.0 * M_PI_MEV)
"""Energy of the prompt ν_μ from π⁺ → μ⁺ ν_μ at rest: (m_π² − m_μ²)/(2 m_π) ≈ 29.79 MeV."""

E_MAX_DELAYED_MEV = M_MU_MEV / 2.0
"""End point of the delayed μ⁺ → e⁺ ν_e ν̄_μ spectra at rest: m_μ/2 ≈ 52.83 MeV."""
