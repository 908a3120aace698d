import glob
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

CFG = 'configs/camus/fcn_unet-tiny_camus-phantom.py'


def tiny_cfg(camus_root, work_dir, max_iters):
    cfg = Config.fromfile(CFG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = camus_root
        cfg[loader].dataset.split = None
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = 1000
    cfg.default_hooks.checkpoint.interval = 4
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    return cfg


def test_save_resume_and_load(camus_root, tmp_path):
    runner = Runner.from_cfg(tiny_cfg(camus_root, tmp_path, 4))
    runner.train()
    ckpt = osp.join(str(tmp_path), 'iter_4.pth')
    assert osp.isfile(ckpt)
    # the trap mmecho fixes: torch>=2.6 refuses mmengine checkpoints
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt, weights_only=True)

    cfg = tiny_cfg(camus_root, tmp_path, 8)
    cfg.resume = True
    cfg.load_from = ckpt
    cfg.experiment_name = 'resumed'
    runner2 = Runner.from_cfg(cfg)
    runner2.train()
    assert runner2.iter == 8
    log = open(glob.glob(osp.join(runner2.log_dir, '*.log'))[0]).read()
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/8]' in log and 'Iter(train) [1/8]' not in log

    model = Runner.from_cfg(tiny_cfg(camus_root, tmp_path / 'x', 1)).model
    state = load_checkpoint(model, osp.join(str(tmp_path), 'iter_8.pth'))
    assert state['meta']['iter'] == 8
