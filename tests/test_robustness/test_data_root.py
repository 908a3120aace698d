"""One place to point a config at another copy of a dataset, and an
evaluator that refuses another dataset's annotations (issue 15, point 7)."""
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmecho.datasets import MEISDataset
from mmecho.datasets.io import DatasetFormatError
from mmecho.evaluation import EchoCocoMetric
from mmecho.phantoms import make_meis_phantom
from mmecho.utils import apply_data_root, load_config
from ..conftest import ROOT

DET_CFG = 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'
CONFIGS = [
    DET_CFG, 'configs/camus/fcn_unet-tiny_camus-phantom.py',
    'configs/registration/bspline_dlir_camus-phantom.py',
    'configs/mnms/unet_mnms-phantom.py',
    'configs/temporal/unet3d_dense_camus-phantom.py'
]


def _paths(cfg):
    """Every dataset data_root and evaluator ann_file of a config."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ('data_root', 'ann_file') and isinstance(v, str):
                    found.append((where + '.' + k, v))
                else:
                    walk(v, where + '.' + k)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, f'{where}[{i}]')

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        walk(cfg.get(key), key)
    return found


@pytest.mark.parametrize('config', CONFIGS)
@pytest.mark.parametrize('how', ['flag', 'cfg-options'])
def test_every_path_follows_the_new_root(config, how):
    path = osp.join(ROOT, config)
    if how == 'flag':
        cfg = load_config(path, data_root='/elsewhere/copy')
    else:
        # the probe: data_root=... alone was ignored by every loader
        cfg = load_config(path, {'data_root': '/elsewhere/copy'})
    paths = _paths(cfg)
    assert any(k.endswith('data_root') for k, _ in paths)
    for key, value in paths:
        if key.endswith('data_root'):
            assert value == '/elsewhere/copy', key
        elif osp.isabs(value) or '/' in value:
            # evaluator files built from the root move with it
            assert value.startswith('/elsewhere/copy/'), (key, value)


def test_paths_outside_the_root_are_left_alone():
    cfg = Config(
        dict(
            data_root='data/a/',
            test_dataloader=dict(
                dataset=dict(
                    data_root='data/a/',
                    ann_file='x.json',
                    extra='data/ab/other.json')),
            test_evaluator=dict(ann_file='data/a/x.json')))
    apply_data_root(cfg, 'data/b')
    assert cfg.test_dataloader.dataset.data_root == 'data/b'
    assert cfg.test_dataloader.dataset.extra == 'data/ab/other.json'
    assert cfg.test_evaluator.ann_file == 'data/b/x.json'


def _samples(root):
    ds = MEISDataset(
        data_root=root,
        ann_file='Allmode_test.json',
        data_prefix=dict(img='raw_image/'),
        test_mode=True,
        pipeline=[])
    out = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        out.append(
            dict(
                img_id=info['img_id'],
                img_path=info['img_path'],
                ori_shape=(info['height'], info['width'])))
    return out


def test_coco_metric_refuses_another_datasets_annotations(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    make_meis_phantom(a, num=4, seed=0)
    make_meis_phantom(b, num=4, seed=1)
    metric = EchoCocoMetric(ann_file=osp.join(a, 'Allmode_test.json'))
    metric._check_image(_samples(a)[0])  # its own images pass
    with pytest.raises(DatasetFormatError) as e:
        metric._check_image(_samples(b)[0])
    assert 'Allmode_test.json' in str(e.value)
    assert 'same annotation file' in str(e.value)


def test_test_tool_data_root_flag(tmp_path, meis_root):
    """``--data-root`` moves the loaders and the evaluator together: a
    phantom elsewhere is evaluated against its own annotations."""
    ckpt = tmp_path / 'w.pth'
    import torch

    from mmecho.registry import MODELS
    model = MODELS.build(Config.fromfile(osp.join(ROOT, DET_CFG)).model)
    torch.save(dict(meta={}, state_dict=model.state_dict()), str(ckpt))
    out = subprocess.run([
        sys.executable, 'tools/test.py', DET_CFG,
        str(ckpt), '--data-root', meis_root, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ],
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'coco/bbox_mAP' in out.stdout + out.stderr
