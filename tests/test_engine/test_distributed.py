import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmecho.engine import prepare_distributed_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_prepare_cfg_requires_torchrun_env(monkeypatch):
    cfg = Config(dict(model=dict()))
    for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR'):
        monkeypatch.delenv(var, raising=False)
    assert prepare_distributed_cfg(cfg, 'none').launcher == 'none'
    with pytest.raises(RuntimeError, match='torchrun'):
        prepare_distributed_cfg(Config(dict()), 'pytorch')


def test_two_process_gloo_training(camus_root, tmp_path):
    work_dir = tmp_path / 'ddp'
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}', 'tools/train.py',
        'configs/camus/fcn_unet-tiny_camus-phantom.py', '--launcher',
        'pytorch', '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={camus_root}',
        'train_dataloader.dataset.split=None',
        f'val_dataloader.dataset.data_root={camus_root}',
        'val_dataloader.dataset.split=None', 'train_cfg.max_iters=4',
        'train_cfg.val_interval=4', 'default_hooks.checkpoint.interval=4',
        'default_hooks.logger.interval=1'
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert 'DeviceAwareDistributedDataParallel' in out
    assert 'Iter(train) [4/4]' in out
    assert osp.isfile(work_dir / 'iter_4.pth')
