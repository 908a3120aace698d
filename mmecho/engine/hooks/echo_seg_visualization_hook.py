# Copyright (c) mmecho contributors. All rights reserved.
import os.path as osp
from typing import Sequence

import numpy as np
from mmseg.engine.hooks import SegVisualizationHook

from mmecho.registry import HOOKS


@HOOKS.register_module()
class EchoSegVisualizationHook(SegVisualizationHook):
    """mmseg's visualization hook for NIfTI/MetaImage inputs.

    mmseg reads the image back with OpenCV, which cannot open medical
    formats; this hook reads the frame (``frame_index``/``slice_index`` of
    the sample) with mmecho's loaders and names each drawing after the file
    and frame.
    """

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence,
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        from mmecho.datasets.transforms.loading import (load_cached,
                                                        select_frame,
                                                        to_uint8_range)
        for output in outputs:
            path = output.img_path
            meta = output.metainfo
            array, _ = load_cached(path)
            frame = select_frame(array, meta.get('frame_index'),
                                 meta.get('slice_index'), path)
            img = to_uint8_range(frame).astype(np.uint8)
            img = np.repeat(img[..., None], 3, axis=2)
            name = osp.basename(path).split('.')[0]
            for key in ('frame_index', 'slice_index'):
                if meta.get(key) is not None:
                    name += f'_{key[0]}{meta[key]}'
            self._visualizer.add_datasample(
                f'{mode}_{name}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter)
