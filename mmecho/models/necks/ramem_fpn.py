# Copyright (c) mmecho contributors. All rights reserved.
"""RAMEM's FPN: mmdet's FPN with the activations of YOLACT's own FPN."""
from mmdet.models.necks import FPN

from mmecho.registry import MODELS


@MODELS.register_module()
class RAMEMFPN(FPN):
    """:class:`mmdet.models.necks.FPN` with RAMEM's (Yolact_minimal's) ReLUs.

    RAMEM's ``modules/yolact.py`` ``FPN`` applies a ReLU after every output
    conv (the 3x3 convs on P3-P5 and the two stride-2 convs that make P6 from
    P5 and P7 from P6) and none after the lateral 1x1 convs. mmdet's FPN has
    one ``act_cfg`` for both (default: no activation, as in mmdet's YOLACT),
    so here the outputs get ``act_cfg`` (default ReLU) and the laterals none.
    With ``add_extra_convs='on_output'`` this is RAMEM's FPN layer for layer
    (``tests/test_tools/test_ramem2mmecho.py`` checks it against RAMEM's code).

    The parameters and their names are mmdet's FPN's, so a state dict fits
    both; only the function differs (mmecho's trained MaYOLACT configs use
    ``mmdet.FPN``).

    Args:
        act_cfg (dict): Activation after each output conv. Defaults to ReLU.
        **kwargs: :class:`mmdet.models.necks.FPN` arguments.
    """

    def __init__(self, *args, act_cfg=dict(type='ReLU'), **kwargs) -> None:
        super().__init__(*args, act_cfg=act_cfg, **kwargs)
        for conv in self.lateral_convs:
            conv.with_activation = False
            conv.act_cfg = None
            if hasattr(conv, 'activate'):
                del conv.activate
