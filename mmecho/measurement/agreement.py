# Copyright (c) mmecho contributors. All rights reserved.
"""Agreement of measurements with a reference: MAE, MSE, bias, Bland-Altman.
"""
from typing import Dict, List, Sequence, Union

import numpy as np


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float('nan')
    return float(np.corrcoef(a, b)[0, 1])


def agreement(pairs: Dict[str, List[tuple]]) -> Dict[str, Dict[str, float]]:
    """Per indicator: n, MAE, MSE, bias (mean of measured - reference) and
    the 95 % limits of agreement (bias +- 1.96 SD of the differences).

    Args:
        pairs (dict): indicator -> list of (measured, reference).

    Returns:
        dict: indicator -> n, MAE, MSE, bias, loa_low, loa_high, sd (of the
        differences) and corr (Pearson, NaN for fewer than 2 pairs or a
        constant series).
    """
    out = {}
    for name, values in pairs.items():
        if not values:
            continue
        m, r = np.asarray(values, np.float64).T
        d = m - r
        sd = float(np.std(d, ddof=1)) if len(d) > 1 else float('nan')
        out[name] = dict(
            n=len(d),
            MAE=float(np.mean(np.abs(d))),
            MSE=float(np.mean(d**2)),
            bias=float(np.mean(d)),
            loa_low=float(np.mean(d) - 1.96 * sd),
            loa_high=float(np.mean(d) + 1.96 * sd),
            sd=sd,
            corr=_pearson(m, r))
    return out


def bland_altman_figure(pairs: Dict[str, List[tuple]],
                        names: Sequence[str],
                        path: str,
                        units: Union[str, Dict[str, str]] = 'cm') -> None:
    """One Bland-Altman panel per indicator, saved as PNG at ``path``.

    ``units``: one unit for every indicator, or indicator -> unit."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmecho.utils import atomic_write
    names = [n for n in names if pairs.get(n)]
    cols = min(4, max(len(names), 1))
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis('off')
    stats = agreement(pairs)
    for ax, name in zip(axes.flat, names):
        m, r = np.asarray(pairs[name], np.float64).T
        ax.scatter((m + r) / 2, m - r, s=8)
        s = stats[name]
        for y, style in ((s['bias'], '-'), (s['loa_low'], '--'),
                         (s['loa_high'], '--')):
            if np.isfinite(y):
                ax.axhline(y, color='k', linestyle=style, linewidth=0.8)
        ax.set_title(f'{name} (n={s["n"]})', fontsize=9)
        unit = units.get(name, '') if isinstance(units, dict) else units
        ax.set_xlabel(f'mean ({unit})', fontsize=8)
        ax.set_ylabel(f'measured - reference ({unit})', fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    with atomic_write(path, 'wb') as f:
        fig.savefig(f, format='png', dpi=110)
    plt.close(fig)
