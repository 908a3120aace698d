# Copyright (c) mmecho contributors. All rights reserved.
"""Derived LV indices from M-mode linear measurements (ASE conventions)."""
from typing import Dict


def teichholz_volume(d_cm: float) -> float:
    """Teichholz volume (ml) of an LV internal diameter ``d_cm`` (cm):
    V = 7 D^3 / (2.4 + D)."""
    return 7.0 * d_cm**3 / (2.4 + d_cm)


def ase_cube_lv_mass(ivsd: float, lvidd: float, lvpwd: float) -> float:
    """LV mass (g), ASE cube formula, diastolic dimensions in cm:
    0.8 x 1.04 x [(IVSd + LVIDd + LVPWd)^3 - LVIDd^3] + 0.6."""
    return 0.8 * 1.04 * ((ivsd + lvidd + lvpwd)**3 - lvidd**3) + 0.6


def lv_derived_indices(IVSd: float, LVIDd: float, LVPWd: float, IVSs: float,
                       LVIDs: float, LVPWs: float) -> Dict[str, float]:
    """FS (%), Teichholz EDV/ESV (ml) and EF (%), LV mass (g), RWT.

    All inputs in cm. FS = (LVIDd - LVIDs) / LVIDd x 100;
    RWT = 2 LVPWd / LVIDd.
    """
    edv = teichholz_volume(LVIDd)
    esv = teichholz_volume(LVIDs)
    return dict(
        FS=(LVIDd - LVIDs) / LVIDd * 100.0,
        EDV=edv,
        ESV=esv,
        EF=(edv - esv) / edv * 100.0,
        LVMass=ase_cube_lv_mass(IVSd, LVIDd, LVPWd),
        RWT=2.0 * LVPWd / LVIDd)
