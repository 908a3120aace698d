# Copyright (c) mmecho contributors. All rights reserved.
"""Outlier criteria of RU-Net's Table I (Leclerc et al., IUS 2019).

Geometrical outlier: MAD or HD of the LV endocardium or the LV epicardium
above the highest average inter-observer value of CAMUS (per instant).
Anatomical outlier: simplicity or convexity of a predicted shape below the
lowest value observed on the images annotated by three experts.

Reading of Table I. The extracted text prints the anatomical rows as
"LV 0.741 0.529 / Myo 0.960 0.694" under "Sp Cx"; read row-wise, the
myocardium would need a simplicity of 0.960 (a near-perfect disc), which no
myocardium can have, so the table was extracted column-wise:
LV cavity Sp >= 0.741, Cx >= 0.960; "Myo" Sp >= 0.529, Cx >= 0.694. The open
myocardial ring itself has a simplicity near 0.4 (phantom ground truth:
Sp 0.33-0.45, Cx 0.33-0.52), so the "Myo" limits are applied to the
epicardial region (cavity + myocardium), whose ground-truth values
(phantom: Sp 0.87-0.93, Cx 0.98-0.99) sit above them, as the LV cavity's do
(Sp 0.79-0.90, Cx 0.97-0.99). The limits are configurable
(``EchoSegMetric(outlier_criteria=dict(anatomical=...))``).
"""
from dataclasses import dataclass, field
from typing import Dict, Tuple


@dataclass(frozen=True)
class OutlierCriteria:
    """Limits for geometrical and anatomical outliers.

    Attributes:
        geometric (dict): instant -> (max MAD mm, max HD mm); instants not
            listed (intermediate frames of a sequence) use ``default``.
        geometric_structures (tuple): Structures whose MAD/HD are checked.
        anatomical (dict): structure -> (min simplicity, min convexity).
        default_instant (str): Instant whose limits apply to other frames
            (ES: the more lenient limits).
    """
    geometric: Dict[str, Tuple[float, float]] = field(default_factory=lambda: {
        'ED': (3.5, 8.2),
        'ES': (4.0, 8.8)
    })
    geometric_structures: Tuple[str, ...] = ('LV', 'EPI')
    anatomical: Dict[str, Tuple[float,
                                float]] = field(default_factory=lambda: {
                                    'LV': (0.741, 0.960),
                                    'EPI': (0.529, 0.694)
                                })
    default_instant: str = 'ES'

    def geometric_limits(self, instant: str) -> Tuple[float, float]:
        return self.geometric.get(instant,
                                  self.geometric[self.default_instant])

    def is_geometric_outlier(
            self, instant: str, distances: Dict[str, Tuple[float,
                                                           float]]) -> bool:
        """``distances``: structure -> (MAD, HD) in mm."""
        max_mad, max_hd = self.geometric_limits(instant)
        for s in self.geometric_structures:
            if s in distances:
                mad, hd = distances[s]
                if mad > max_mad or hd > max_hd:
                    return True
        return False

    def is_anatomical_outlier(self, shapes: Dict[str, Tuple[float,
                                                            float]]) -> bool:
        """``shapes``: structure -> (simplicity, convexity) of the
        prediction."""
        for s, (min_sp, min_cx) in self.anatomical.items():
            if s in shapes:
                sp, cx = shapes[s]
                if sp < min_sp or cx < min_cx:
                    return True
        return False


OUTLIER_CRITERIA = OutlierCriteria()
