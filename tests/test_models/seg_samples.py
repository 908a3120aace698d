"""Segmentation data samples with random labels for model tests."""
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def random_seg_samples(n: int, size: int, num_classes: int = 4):
    """``n`` SegDataSamples with ``(1, size, size)`` random labels."""
    out = []
    for _ in range(n):
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, size, size)))
        ds.set_metainfo(
            dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size)))
        out.append(ds)
    return out
