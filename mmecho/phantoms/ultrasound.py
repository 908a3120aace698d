# Copyright (c) mmecho contributors. All rights reserved.
"""Ultrasound image formation for phantoms.

A fully developed speckle model: complex circular Gaussian scatterers whose
amplitude follows the local echogenicity, convolved with an anisotropic
Gaussian point spread function (axial x lateral), envelope-detected (which
gives Rayleigh-distributed amplitude in homogeneous regions), attenuated with
depth, partly compensated by a time-gain curve and log-compressed to 8 bits.
Scatterers are sampled in *material* coordinates, so speckle moves with the
tissue across frames (what registration methods rely on).
"""
from typing import Optional, Tuple

import cv2
import numpy as np


def complex_scatterers(shape: Tuple[int, int],
                       rng: np.random.Generator) -> np.ndarray:
    """Complex circular Gaussian field of unit variance, ``(H, W, 2)``
    float32 (real, imaginary)."""
    return rng.standard_normal((*shape, 2)).astype(np.float32)


def sample_field(field: np.ndarray, map_y: np.ndarray,
                 map_x: np.ndarray) -> np.ndarray:
    """Bilinearly sample ``field`` (H, W[, C]) at float pixel coordinates
    ``(map_y, map_x)`` (each of the output shape); outside -> reflected."""
    return cv2.remap(
        field,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT101)


def form_bmode(scatterers: np.ndarray,
               echogenicity: np.ndarray,
               psf_sigma_px: Tuple[float, float] = (0.8, 2.0),
               depth_mm: Optional[np.ndarray] = None,
               attenuation_db_per_mm: float = 0.05,
               tgc_fraction: float = 0.7,
               dynamic_range_db: float = 48.0,
               gain_db: float = 0.0,
               rng: Optional[np.random.Generator] = None,
               noise_level: float = 0.01) -> np.ndarray:
    """Form an 8-bit B-mode (or M-mode) image.

    Args:
        scatterers (np.ndarray): ``(H, W, 2)`` complex scatterers (already
            sampled in the frame's coordinates).
        echogenicity (np.ndarray): ``(H, W)`` backscatter power, >= 0
            (blood ~0.01-0.05, myocardium ~0.3, pericardium ~1).
        psf_sigma_px (tuple): Gaussian PSF sigma (axial = rows,
            lateral = columns) in pixels.
        depth_mm (np.ndarray, optional): ``(H, W)`` distance from the
            transducer in mm, for attenuation; none if omitted.
        attenuation_db_per_mm (float): Round-trip attenuation.
        tgc_fraction (float): Fraction of the attenuation compensated by the
            time-gain curve (1 = fully flat).
        dynamic_range_db (float): Log-compression range mapped to 0..255.
        gain_db (float): Overall gain.
        noise_level (float): Additive electronic noise (relative amplitude).

    Returns:
        np.ndarray: ``(H, W)`` uint8 image.
    """
    amp = np.sqrt(np.maximum(echogenicity, 0)).astype(np.float32)
    field = scatterers * amp[..., None]
    sy, sx = psf_sigma_px
    field = cv2.GaussianBlur(
        field, (0, 0), sigmaX=max(sx, 1e-3), sigmaY=max(sy, 1e-3))
    env = np.sqrt(field[..., 0]**2 + field[..., 1]**2)
    if rng is not None and noise_level > 0:
        noise = rng.standard_normal((*env.shape, 2)).astype(np.float32)
        env = np.sqrt((env + noise_level * noise[..., 0])**2 +
                      (noise_level * noise[..., 1])**2)
    if depth_mm is not None:
        loss_db = attenuation_db_per_mm * (1 - tgc_fraction) * depth_mm
        env = env * (10**(-loss_db / 20)).astype(np.float32)
    # normalise so that bright tissue (echogenicity 1) sits near 0 dB
    ref = 1.0 / max(np.sqrt(2 * np.pi) * np.sqrt(sx * sy), 1e-3)
    db = 20 * np.log10(np.maximum(env / ref, 1e-6)) + gain_db
    img = (db + dynamic_range_db) / dynamic_range_db * 255.0
    return np.clip(img, 0, 255).astype(np.uint8)


def sector_mask(
    shape: Tuple[int, int],
    apex_xy: Tuple[float, float],
    half_angle_deg: float,
    max_radius_px: float,
    spacing_yx: Tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Boolean ``(H, W)`` mask of a fan (apical view sector) with its apex at
    ``apex_xy`` (pixels), opening downwards; angles in physical space."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = (yy - apex_xy[1]) * spacing_yx[0]
    dx = (xx - apex_xy[0]) * spacing_yx[1]
    radius = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dx, dy))
    return ((np.abs(angle) <= half_angle_deg) &
            (radius <= max_radius_px * spacing_yx[0]) & (dy >= 0))
