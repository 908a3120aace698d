"""The MEIS configs: the six-way study by inheritance, and the baselines."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmecho.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MEIS = osp.join(ROOT, 'configs', 'meis')
# The six cells of the label-assignment study: config -> (assigner, maIoU).
# The ATSS x maIoU cell is RAMEM's own assigner, i.e. the base config itself.
STUDY_CELLS = {
    'simota': ('mmdet.SimOTAAssigner', False),
    'simota_maiou': ('mmdet.SimOTAAssigner', True),
    'atss': ('mmdet.ATSSAssigner', False),
    'mayolact_upanet80_meis': ('mmdet.ATSSAssigner', True),
    'rtm_assigner': ('mmdet.DynamicSoftLabelAssigner', False),
    'rtm_assigner_maiou': ('mmdet.DynamicSoftLabelAssigner', True),
}
STUDY = list(STUDY_CELLS)
BASELINES = ['yolact_r50_meis', 'mayolact_r50_meis', 'rtmdet-ins_s_meis']


def flatten(d, prefix=''):
    out = {}
    for k, v in d.items():
        key = f'{prefix}{k}'
        if isinstance(v, dict):
            out.update(flatten(v, key + '.'))
        else:
            out[key] = v
    return out


def test_study_configs_differ_only_in_the_assigner():
    base = flatten(
        Config.fromfile(osp.join(MEIS, 'mayolact_upanet80_meis.py')).to_dict())
    seen = set()
    for name in STUDY:
        cfg = flatten(Config.fromfile(osp.join(MEIS, f'{name}.py')).to_dict())
        changed = {
            k
            for k in set(base) | set(cfg)
            if base.get(k, None) != cfg.get(k, None)
        }
        assert all(k.startswith('model.train_cfg.assigner.')
                   for k in changed), f'{name} changes {sorted(changed)}'
        assigner = {
            k: v
            for k, v in cfg.items()
            if k.startswith('model.train_cfg.assigner.')
        }
        seen.add(tuple(sorted(assigner.items())))
        assigner_type, uses_maiou = STUDY_CELLS[name]
        assert assigner['model.train_cfg.assigner.type'] == assigner_type
        calc = assigner['model.train_cfg.assigner.iou_calculator.type']
        assert (calc == 'MaskAwareOverlaps2D') == uses_maiou
    assert len(seen) == 6  # six different assigners


def test_no_config_is_an_alias():
    """No two MEIS configs load to the same config (an alias must become
    the base or go)."""
    dumps = {}
    for path in sorted(glob.glob(osp.join(MEIS, '*.py'))):
        cfg = Config.fromfile(path).to_dict()
        cfg.pop('filename', None)
        dumps.setdefault(repr(sorted(flatten(cfg).items())),
                         []).append(osp.basename(path))
    aliases = [names for names in dumps.values() if len(names) > 1]
    assert not aliases, f'configs that load identically: {aliases}'


def test_full_size_parameter_counts():
    # reference_methods.md section 8: 40.277 M (UPANet80), 30.365 M (R50),
    # 74.55 M (ResNet50-panel)
    expected = {
        'rtm_assigner.py': 40.277,
        'mayolact_r50_meis.py': 30.365,
        'mayolact_r50-panel_meis.py': 74.549
    }
    for name, millions in expected.items():
        model = MODELS.build(Config.fromfile(osp.join(MEIS, name)).model)
        n = sum(p.numel() for p in model.parameters()) / 1e6
        assert n == pytest.approx(millions, abs=0.002), name


def shrink(cfg):
    """CPU-test size: UPANet16 / narrow FPN for the UPANet configs."""
    if cfg.model.backbone.type == 'UPANetV2':
        w, f = 16, 64
        cfg.model.backbone.width = w
        cfg.model.neck.in_channels = [4 * w, 8 * w, 16 * w]
        cfg.model.neck.out_channels = f
        cfg.model.bbox_head.in_channels = f
        cfg.model.bbox_head.feat_channels = f
        cfg.model.mask_head.in_channels = f


@pytest.mark.parametrize('name', STUDY + BASELINES)
def test_config_trains_and_tests_one_iteration(name, meis_root, tmp_path):
    cfg = Config.fromfile(osp.join(MEIS, f'{name}.py'))
    shrink(cfg)
    cfg.work_dir = str(tmp_path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = meis_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    for ev in ('val_evaluator', 'test_evaluator'):
        cfg[ev].ann_file = osp.join(meis_root, 'Allmode_test.json')
    cfg.train_cfg.max_iters = 1
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert 'coco/avg_mAP' in metrics
    assert metrics['coco/avg_mAP'] == pytest.approx(
        (metrics['coco/bbox_mAP'] + metrics['coco/segm_mAP']) / 2, abs=1e-3)
