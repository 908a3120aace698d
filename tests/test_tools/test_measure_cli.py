"""tools/measure.py as a sonographer would run it."""
import csv
import glob
import importlib.util
import os.path as osp

import cv2
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'measure_tool', osp.join(ROOT, 'tools', 'measure.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_from_annotations_with_reference(meis_root, tmp_path):
    tool = load_tool()
    out = str(tmp_path / 'gt')
    tool.main([
        '--from-annotations',
        osp.join(meis_root, 'Allmode_train.json'), '--images',
        osp.join(meis_root, 'raw_image'), '--out', out, '--reference',
        osp.join(meis_root, 'truth_measurements.csv')
    ])
    rows = read(osp.join(out, 'measurements.csv'))
    header = list(rows[0].keys())
    assert header[:7] == [
        'image', 'type', 'status', 'n_cycles', 'cm_per_px', 'calibration',
        'unit'
    ]
    assert {'IVSd', 'IVSd_sd', 'LA', 'EF', 'LVMass', 'RWT'} <= set(header)
    empty = [r for r in rows if r['status'] == 'no structure found']
    assert len(empty) <= 1  # the phantom's image without objects
    assert all(r['status'] == 'ok' and r['unit'] == 'cm'
               and r['calibration'] == 'depth scale' for r in rows
               if r not in empty)
    assert all(r[k] == '' for r in empty for k in ('IVSd', 'LA', 'EF'))
    assert len(glob.glob(osp.join(out, 'overlays', '*.png'))) == len(rows)
    cycles = read(osp.join(out, 'cycles.csv'))
    assert sum(int(r['n_cycles']) for r in rows) == len(cycles) > len(rows)
    agreement = {
        r['indicator']: r
        for r in read(osp.join(out, 'agreement.csv'))
    }
    assert set(agreement) == {
        'IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA'
    }
    # phantom pixels are ~0.04 cm: every MAE well below one pixel
    assert all(float(r['MAE_cm']) < 0.02 for r in agreement.values())
    assert osp.getsize(osp.join(out, 'bland_altman.png')) > 1000


def test_interrupted_run_resumes_without_duplicates(meis_root, tmp_path,
                                                    monkeypatch):
    tool = load_tool()
    out = str(tmp_path / 'resume')
    argv = [
        '--from-annotations',
        osp.join(meis_root, 'Allmode_train.json'), '--images',
        osp.join(meis_root, 'raw_image'), '--out', out
    ]
    real = tool.write_overlay
    calls = []

    def crash_on_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt('simulated interruption')
        return real(*args, **kwargs)

    monkeypatch.setattr(tool, 'write_overlay', crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        tool.main(argv)
    partial = read(osp.join(out, 'measurements.csv'))
    assert len(partial) == 3
    monkeypatch.setattr(tool, 'write_overlay', real)
    tool.main(argv)
    rows = read(osp.join(out, 'measurements.csv'))
    names = [r['image'] for r in rows]
    assert len(names) == len(set(names))
    assert names[:3] == [r['image'] for r in partial]
    full = str(tmp_path / 'full')
    tool.main(argv[:-1] + [full])
    assert sorted(names) == sorted(
        r['image'] for r in read(osp.join(full, 'measurements.csv')))
    cyc = read(osp.join(out, 'cycles.csv'))
    keys = [(r['image'], r['cycle']) for r in cyc]
    assert len(keys) == len(set(keys))
    assert len(cyc) == len(read(osp.join(full, 'cycles.csv')))
    assert not glob.glob(osp.join(out, '*.tmp*'))


def test_model_on_a_video_and_a_folder(meis_root, tmp_path):
    from mmengine.runner import save_checkpoint

    from mmecho.registry import MODELS
    from mmecho.utils import load_config
    cfg_path = osp.join(ROOT, 'configs', 'meis',
                        'rtm_assigner_upanet16_meis-phantom_demo.py')
    model = MODELS.build(load_config(cfg_path, None).model)
    ckpt = str(tmp_path / 'random.pth')
    save_checkpoint(model.state_dict(), ckpt)
    frames = sorted(glob.glob(osp.join(meis_root, 'raw_image', '*.jpg')))[:3]
    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 2,
                             (1024, 768))
    if not writer.isOpened():
        pytest.skip('no mp4 writer in this OpenCV build')
    for f in frames:
        writer.write(cv2.imread(f))
    writer.release()
    tool = load_tool()
    torch.manual_seed(0)
    tool.main([
        cfg_path, ckpt, video, '--out',
        str(tmp_path / 'v'), '--cm-per-px', '0.04'
    ])
    rows = read(osp.join(tmp_path / 'v', 'measurements.csv'))
    assert [r['image']
            for r in rows] == [f'clip_frame{i:05d}' for i in range(3)]
    # untrained weights: whatever it finds, every row says why or ok
    assert all(r['status'] for r in rows)
    assert all(r['calibration'] == 'given' for r in rows)
    tool.main([
        cfg_path, ckpt,
        osp.join(meis_root, 'raw_image'), '--out',
        str(tmp_path / 'f'), '--no-overlays'
    ])
    rows = read(osp.join(tmp_path / 'f', 'measurements.csv'))
    assert len(rows) == len(
        glob.glob(osp.join(meis_root, 'raw_image', '*.jpg')))
