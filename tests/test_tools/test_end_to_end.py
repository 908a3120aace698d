"""The command-line tools, run as a user would."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest

# end-to-end: trains models; `make test-fast` leaves these out
pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run(*args, timeout=900):
    proc = subprocess.run([sys.executable, *args],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout + proc.stderr


def test_make_phantom_cli(tmp_path):
    for name, extra in (('meis', ['--num', '2']),
                        ('camus', ['--num', '1', '--release',
                                   'mhd']), ('mnms', ['--num', '1'])):
        out = run('tools/dataset_converters/make_phantom.py', name,
                  str(tmp_path / name), *extra)
        assert 'phantom written' in out
    assert osp.isfile(tmp_path / 'meis' / 'Allmode_train.json')
    assert osp.isfile(tmp_path / 'camus' / 'training' / 'patient0001' /
                      'patient0001_2CH_sequence.mhd')
    assert glob.glob(str(tmp_path / 'mnms' / 'Testing' / '*' / '*_sa.nii.gz'))


def test_train_test_and_browse_seg(camus_root, tmp_path):
    opts = [
        '--cfg-options', f'train_dataloader.dataset.data_root={camus_root}',
        'train_dataloader.dataset.split=None',
        f'val_dataloader.dataset.data_root={camus_root}',
        'val_dataloader.dataset.split=None',
        f'test_dataloader.dataset.data_root={camus_root}',
        'test_dataloader.dataset.split=None', 'train_cfg.max_iters=6',
        'train_cfg.val_interval=6', 'default_hooks.checkpoint.interval=6'
    ]
    cfg = 'configs/camus/fcn_unet-tiny_camus-phantom.py'
    work = str(tmp_path / 'w')
    out = run('tools/train.py', cfg, '--work-dir', work, *opts)
    assert 'mIoU' in out
    out = run('tools/test.py', cfg, osp.join(work, 'iter_6.pth'), '--work-dir',
              work, '--show-dir', 'vis', *opts)
    assert 'mDice' in out
    assert glob.glob(osp.join(work, '**', '*.png'), recursive=True)
    out = run('tools/analysis_tools/browse_dataset.py', cfg, '--out-dir',
              str(tmp_path / 'b'), '--max', '3', *opts[:3])
    assert len(glob.glob(str(tmp_path / 'b' / '*.png'))) == 3


def test_meis_demo_train_eval_and_tools(meis_root, tmp_path):
    """The demo config (RAMEM, RTMDet assigner, COCO bbox+segm mAP) on a
    phantom for 3 iterations, then the image demo, FLOPs and benchmark."""
    cfg = 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'
    work = str(tmp_path / 'y')
    opts = [
        '--cfg-options', f'train_dataloader.dataset.data_root={meis_root}/',
        f'val_dataloader.dataset.data_root={meis_root}/',
        f'test_dataloader.dataset.data_root={meis_root}/',
        f'val_evaluator.ann_file={meis_root}/Allmode_test.json',
        f'test_evaluator.ann_file={meis_root}/Allmode_test.json',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.checkpoint.interval=3', 'train_dataloader.batch_size=2'
    ]
    run('tools/train.py', cfg, '--work-dir', work, *opts)
    out = run('tools/test.py', cfg, osp.join(work, 'iter_3.pth'), '--work-dir',
              work, *opts)
    assert 'coco/segm_mAP' in out and 'coco/avg_mAP' in out
    browse = run('tools/analysis_tools/browse_dataset.py', cfg, '--out-dir',
                 str(tmp_path / 'b'), '--max', '2', *opts[:2])
    assert 'overlays written' in browse
    image = sorted(glob.glob(osp.join(meis_root, 'raw_image', '*')))[0]
    demo = run('demo/image_demo.py', image, cfg, '--weights',
               osp.join(work, 'iter_3.pth'), '--out-dir', str(tmp_path / 'v'),
               '--score-thr', '0.0')
    assert 'instances' in demo
    assert osp.isfile(tmp_path / 'v' / osp.basename(image))
    flops = run('tools/analysis_tools/get_flops.py', cfg, '--shape', '64',
                '96')
    assert 'parameters:' in flops and 'MACs' in flops
    bench = run('tools/analysis_tools/benchmark.py', cfg,
                'configs/meis/yolact_r50_meis.py', '--shape', '64', '64',
                '--iters', '1', '--warmup', '0', '--breakdown',
                '--fuse-conv-bn', '--channels-last', '--check-inference-path')
    assert bench.count('with post-processing') == 2 and 'x1.00' in bench
    # UPANet's inference path (in-place, folded) against its layers
    diffs = re.findall(r'layer-by-layer: max abs diff (\S+) '
                       r'\(largest output (\S+)\)', bench)
    assert len(diffs) == 2
    assert all(float(d) <= 1e-5 * max(float(top), 1) for d, top in diffs)
