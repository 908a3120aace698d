"""Every assigner of the study gives positives to both thin bands of an LV
image (the reference's SimOTA gave one of them none)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmecho.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The six cells of the study; the ATSS x maIoU cell (RAMEM's own assigner) is
# the base config mayolact_upanet80_meis.py itself.
STUDY = [
    'simota', 'simota_maiou', 'atss', 'mayolact_upanet80_meis', 'rtm_assigner',
    'rtm_assigner_maiou'
]


def small_model_cfg(cfg, width=16, feat=64):
    model = cfg.model
    model.backbone.width = width
    model.neck.in_channels = [4 * width, 8 * width, 16 * width]
    model.neck.out_channels = feat
    model.bbox_head.in_channels = feat
    model.bbox_head.feat_channels = feat
    model.mask_head.in_channels = feat
    return model


@pytest.fixture(scope='module')
def lv_batch(meis_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(type='Resize', scale=(544, 544), keep_ratio=True),
        dict(type='Pad', size=(544, 544)),
        dict(
            type='PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                       'scale_factor', 'pad_shape'))
    ]
    ds = DATASETS.build(
        dict(
            type='MEISDataset',
            data_root=meis_root,
            ann_file='Allmode_train.json',
            data_prefix=dict(img='raw_image/'),
            pipeline=pipeline))
    for i in range(len(ds)):
        if ds.get_data_info(i)['image_type'] == 'LV':
            sample = ds[i]
            break
    else:
        pytest.fail('the phantom has no LV image')
    labels = sample['data_samples'].gt_instances.labels.tolist()
    assert sorted(labels) == [0, 1]  # IVS and LVPW
    boxes = sample['data_samples'].gt_instances.bboxes.tensor
    wh = boxes[:, 2:] - boxes[:, :2]
    assert (wh[:, 0] > 4 * wh[:, 1]).all(), 'bands should be long and thin'
    return pseudo_collate([sample])


@pytest.mark.parametrize('name', STUDY)
def test_both_bands_get_positives(name, lv_batch):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'meis', f'{name}.py'))
    torch.manual_seed(0)
    model = MODELS.build(small_model_cfg(cfg))
    model.train()
    data = model.data_preprocessor(lv_batch, training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(
        torch.isfinite(v).all() for v in
        [sum(x) if isinstance(x, list) else x for x in losses.values()])
    result = model.bbox_head._raw_positive_infos['sampling_results'][0]
    per_gt = torch.bincount(result.pos_assigned_gt_inds, minlength=2)
    assert (per_gt > 0).all(), f'{name}: positives per GT {per_gt.tolist()}'


@pytest.mark.parametrize('name',
                         ['mayolact_upanet80_meis', 'rtm_assigner', 'simota'])
def test_images_without_objects_train(name, lv_batch):
    """One image whose objects were all cropped away, then a whole batch."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'meis', f'{name}.py'))
    torch.manual_seed(0)
    model = MODELS.build(small_model_cfg(cfg))
    model.train()
    full = lv_batch['data_samples'][0]
    empty = full.clone()
    empty.gt_instances = full.gt_instances[torch.zeros(
        len(full.gt_instances), dtype=torch.bool)]
    totals = []
    for samples in ([full, empty], [empty, empty]):
        batch = dict(inputs=lv_batch['inputs'] * 2, data_samples=samples)
        data = model.data_preprocessor(batch, training=True)
        losses = model.loss(data['inputs'], data['data_samples'])
        total = sum(
            sum(v) if isinstance(v, list) else v for v in losses.values())
        assert torch.isfinite(total)
        total.backward()
        totals.append(total.item())
    assert totals[0] > 0
    # no positives anywhere: no hard negatives either (RAMEM skips the step)
    assert totals[1] == 0.0
