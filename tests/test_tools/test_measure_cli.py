"""tools/measure.py as a sonographer would run it."""
import csv
import glob
import hashlib
import importlib.util
import json
import os
import os.path as osp
import shutil
import stat

import cv2
import numpy as np
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
    h, w = cv2.imread(frames[0]).shape[:2]  # phantom screens vary in size
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 2, (w, h))
    if not writer.isOpened():
        pytest.skip('no mp4 writer in this OpenCV build')
    for f in frames:
        writer.write(cv2.resize(cv2.imread(f), (w, h)))
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


# --- inputs that must never give a wrong 'ok' ------------------------------

PANEL = dict(panel_top=342, panel_bottom=730, panel_left=60, panel_right=930)


def load_coco(meis_root):
    with open(osp.join(meis_root, 'Allmode_train.json')) as f:
        coco = json.load(f)
    annotated = {a['image_id'] for a in coco['annotations']}
    coco['images'] = [i for i in coco['images'] if i['id'] in annotated]
    return coco


def save_coco(coco, images, path):
    """``coco`` restricted to ``images`` (list of image dicts)."""
    ids = {i['id'] for i in images}
    out = dict(
        coco,
        images=images,
        annotations=[a for a in coco['annotations'] if a['image_id'] in ids])
    with open(path, 'w') as f:
        json.dump(out, f)
    return str(path)


def truth_rows(meis_root, name='truth_measurements.csv'):
    return {r['image']: r for r in read(osp.join(meis_root, name))}


def values_blank(row):
    keys = ('IVSd', 'LVIDd', 'AoR', 'LA', 'EF', 'heart_rate_bpm')
    return row['n_cycles'] == '0' and all(row[k] == '' for k in keys)


def oracle_measurer(meis_root, monkeypatch):
    """Replace the model by the COCO masks of the phantom image with the
    same pixels (an unknown image: no structure). Returns the list of
    predict_masks calls."""
    from mmecho.apis import MModeMeasurer
    from mmecho.measurement import iter_coco_bands
    table = {}
    for info, bands in iter_coco_bands(
            osp.join(meis_root, 'Allmode_train.json'), bitmaps=True):
        img = cv2.imread(osp.join(meis_root, 'raw_image', info['file_name']))
        table[hashlib.sha1(img.tobytes()).hexdigest()] = bands
    calls = []

    class Oracle(MModeMeasurer):

        def __init__(self,
                     config=None,
                     checkpoint=None,
                     device='cpu',
                     score_thr=0.3,
                     cm_per_px=None,
                     read_scale=True,
                     allow_partial_checkpoint=False):
            super().__init__(None, cm_per_px=cm_per_px, read_scale=read_scale)

        def predict_masks(self, image):
            calls.append(image.shape)
            key = hashlib.sha1(np.ascontiguousarray(image).tobytes())
            return table.get(key.hexdigest(), {})

    monkeypatch.setattr('mmecho.apis.MModeMeasurer', Oracle)
    return calls


def run_model(tool, path, out, *extra):
    tool.main(['cfg.py', 'weights.pth', str(path), '--out', str(out), *extra])
    return {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}


def tree(root, skip):
    out = set()
    for d, _, files in os.walk(root):
        if not d.startswith(skip):
            out |= {osp.join(d, f) for f in files}
    return out


def test_hostile_coco_file_names_stay_inside(meis_root, tmp_path):
    coco = load_coco(meis_root)
    imgs = coco['images'][:6]
    src = [osp.join(meis_root, 'raw_image', i['file_name']) for i in imgs]
    image_dir = tmp_path / 'imgs'
    (image_dir / 'sub').mkdir(parents=True)
    shutil.copy(src[0], image_dir / 'a.jpg')
    shutil.copy(src[1], image_dir / 'sub' / 'b c;$.jpg')
    (tmp_path / 'elsewhere').mkdir()
    shutil.copy(src[3], tmp_path / 'elsewhere' / 'x.jpg')
    names = [
        'a.jpg', 'sub/b c;$.jpg', src[2], '../elsewhere/x.jpg',
        '..\\..\\evil.jpg', 'sub/../../elsewhere/x.jpg'
    ]
    imgs = [dict(i, file_name=n) for i, n in zip(imgs, names)]
    ann = save_coco(coco, imgs, tmp_path / 'hostile.json')
    out = str(tmp_path / 'out')
    before = tree(str(tmp_path), out)
    load_tool().main(
        ['--from-annotations', ann, '--images',
         str(image_dir), '--out', out])
    assert tree(str(tmp_path), out) == before  # nothing written outside
    rows = {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}
    assert list(rows) == names
    assert rows['a.jpg']['status'] == rows['sub/b c;$.jpg']['status'] == 'ok'
    for n in names[2:]:
        assert 'leaves the image folder' in rows[n]['status'], n
        assert values_blank(rows[n])
    overlays = sorted(os.listdir(osp.join(out, 'overlays')))
    assert overlays == ['a.png', 'sub_b_c__.png']
    cycles = read(osp.join(out, 'cycles.csv'))
    assert {c['image'] for c in cycles} == {'a.jpg', 'sub/b c;$.jpg'}


def test_images_swapped_for_other_content(meis_root, tmp_path):
    coco = load_coco(meis_root)
    x, y, genuine, w = coco['images'][:4]
    raw = lambda i: cv2.imread(  # noqa
        osp.join(meis_root, 'raw_image', i['file_name']))
    image_dir = tmp_path / 'imgs'
    image_dir.mkdir()
    # another capture in x's place, at another size; in y's place at y's
    # size (only the pixels can tell)
    small = (x['width'] * 3 // 4, x['height'] * 3 // 4)
    cv2.imwrite(str(image_dir / x['file_name']), cv2.resize(raw(w), small))
    cv2.imwrite(
        str(image_dir / y['file_name']),
        cv2.resize(raw(w), (y['width'], y['height'])))
    shutil.copy(
        osp.join(meis_root, 'raw_image', genuine['file_name']), image_dir)
    ann = save_coco(coco, [x, y, genuine], tmp_path / 'ann.json')
    out = str(tmp_path / 'out')
    load_tool().main(
        ['--from-annotations', ann, '--images',
         str(image_dir), '--out', out])
    rows = {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}
    assert rows[x['file_name']]['status'] == (
        f'image does not match its annotation: {small[0]}x{small[1]}, '
        f'annotation says {x["width"]}x{x["height"]}')
    assert rows[y['file_name']]['status'].startswith(
        'image does not match its annotation: the tissue side')
    assert rows[genuine['file_name']]['status'] == 'ok'
    for n in (x['file_name'], y['file_name']):
        assert values_blank(rows[n])
    cycles = read(osp.join(out, 'cycles.csv'))
    assert {c['image'] for c in cycles} == {genuine['file_name']}


def test_changed_file_is_measured_again_on_resume(meis_root, tmp_path,
                                                  monkeypatch):
    calls = oracle_measurer(meis_root, monkeypatch)
    imgs = load_coco(meis_root)['images'][:4]
    raw = [osp.join(meis_root, 'raw_image', i['file_name']) for i in imgs]
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for name, src in zip('abc', raw):
        shutil.copy(src, folder / f'{name}.jpg')
    tool, out = load_tool(), tmp_path / 'out'
    first = run_model(tool, folder, out)
    assert len(calls) == 3 and all(r['status'] == 'ok' for r in first.values())
    again = run_model(tool, folder, out)
    assert len(calls) == 3 and again == first  # unchanged: skipped
    shutil.copy(raw[3], folder / 'a.jpg')  # same name, other capture
    third = run_model(tool, folder, out)
    assert len(calls) == 4
    assert list(third) == ['a.jpg', 'b.jpg', 'c.jpg']
    with open(folder / 'a.jpg', 'rb') as f:
        assert third['a.jpg']['sha256'] == hashlib.sha256(f.read()).hexdigest()
    assert third['a.jpg'] != first['a.jpg']
    assert third['b.jpg'] == first['b.jpg']
    ref = run_model(tool, folder / 'a.jpg', tmp_path / 'ref')['a.jpg']
    assert {
        k: v
        for k, v in third['a.jpg'].items()
    } == dict(
        ref, image='a.jpg')
    cycles = read(osp.join(out, 'cycles.csv'))
    assert sum(c['image'] == 'a.jpg' for c in cycles) == int(ref['n_cycles'])
    keys = [(c['image'], c['cycle']) for c in cycles]
    assert len(keys) == len(set(keys))


def test_unreadable_image_in_a_folder(meis_root, tmp_path, monkeypatch):
    oracle_measurer(meis_root, monkeypatch)
    imgs = load_coco(meis_root)['images'][:2]
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for name, i in zip(('a.jpg', 'c.jpg'), imgs):
        shutil.copy(
            osp.join(meis_root, 'raw_image', i['file_name']), folder / name)
    (folder / 'b.jpg').write_bytes(b'\xff\xd8 not really a jpeg' * 10)
    (folder / 'empty.png').write_bytes(b'')
    rows = run_model(load_tool(), folder, tmp_path / 'out')
    assert list(rows) == ['a.jpg', 'b.jpg', 'c.jpg', 'empty.png']
    assert rows['a.jpg']['status'] == rows['c.jpg']['status'] == 'ok'
    for n in ('b.jpg', 'empty.png'):
        assert rows[n]['status'].startswith('unreadable image: ')
        assert values_blank(rows[n])


def test_degenerate_images_become_status_rows(meis_root, tmp_path,
                                              monkeypatch):
    oracle_measurer(meis_root, monkeypatch)
    folder = tmp_path / 'imgs'
    folder.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(
        str(folder / 'wide.png'), (rng.random(
            (3, 4000, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(folder / 'dot.png'), np.full((1, 1, 3), 200, np.uint8))
    cv2.imwrite(str(folder / 'blank.png'), np.zeros((480, 640, 3), np.uint8))
    rows = run_model(load_tool(), folder, tmp_path / 'out')
    assert rows['wide.png']['status'] == (
        'image too small: 4000x3 (an M-mode capture needs at least 32 px '
        'per side)')
    assert rows['dot.png']['status'].startswith('image too small: 1x1')
    assert rows['blank.png']['status'] == 'no structure found'
    assert all(values_blank(r) for r in rows.values())
    # the same shapes in place of annotated images
    coco = load_coco(meis_root)
    imgs = coco['images'][:2]
    image_dir = tmp_path / 'ann_imgs'
    image_dir.mkdir()
    shutil.copy(folder / 'wide.png', image_dir / imgs[0]['file_name'])
    shutil.copy(folder / 'dot.png', image_dir / imgs[1]['file_name'])
    ann = save_coco(coco, imgs, tmp_path / 'ann.json')
    out = str(tmp_path / 'ann_out')
    load_tool().main(
        ['--from-annotations', ann, '--images',
         str(image_dir), '--out', out])
    rows = read(osp.join(out, 'measurements.csv'))
    assert [r['status'].split(',')[0] for r in rows] == [
        'image does not match its annotation: 4000x3',
        'image does not match its annotation: 1x1'
    ]


def test_truncated_video(meis_root, tmp_path, monkeypatch):
    oracle_measurer(meis_root, monkeypatch)
    frame = cv2.imread(
        osp.join(meis_root, 'raw_image',
                 load_coco(meis_root)['images'][0]['file_name']))
    h, w = frame.shape[:2]
    tool = load_tool()
    for ext, fourcc in (('avi', 'MJPG'), ('mp4', 'mp4v')):
        video = str(tmp_path / f'clip.{ext}')
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*fourcc), 5,
                                 (w, h))
        if not writer.isOpened():
            pytest.skip(f'no {ext} writer in this OpenCV build')
        for _ in range(6):
            writer.write(frame)
        writer.release()
        with open(video, 'rb') as f:
            data = f.read()
        with open(video, 'wb') as f:
            f.write(data[:int(len(data) * 0.6)])
        rows = run_model(tool, video, tmp_path / ext)
        if ext == 'avi':  # the header says 6 frames, 3 or 4 decode
            names = list(rows)
            k = len(names) - 1
            assert 2 <= k < 6
            assert names == [f'clip_frame{i:05d}' for i in range(k + 1)]
            assert rows[names[-1]]['status'] == (
                f'video truncated: decoded {k} of 6 frames')
            assert all(r['status'] for r in rows.values())
        else:  # the index is at the end of an mp4: nothing can be read
            assert list(rows) == ['clip.mp4']
            assert rows['clip.mp4']['status'].startswith('unreadable video')
        assert values_blank(rows[list(rows)[-1]])


def test_outputs_follow_the_umask(meis_root, tmp_path):
    coco = load_coco(meis_root)
    ann = save_coco(coco, coco['images'][:1], tmp_path / 'one.json')
    old = os.umask(0o022)
    try:
        for mask, mode in ((0o022, 0o644), (0o027, 0o640)):
            os.umask(mask)
            out = str(tmp_path / f'out{mask:o}')
            load_tool().main([
                '--from-annotations', ann, '--images',
                osp.join(meis_root, 'raw_image'), '--out', out
            ])
            files = glob.glob(osp.join(out, '*.csv')) + glob.glob(
                osp.join(out, 'overlays', '*.png'))
            assert len(files) == 3
            for f in files:
                assert stat.S_IMODE(os.stat(f).st_mode) == mode, f
            from mmecho.datasets.io import write_us_dicom
            dcm = write_us_dicom(
                osp.join(out, 'x.dcm'), np.zeros((40, 40, 3), np.uint8))
            assert stat.S_IMODE(os.stat(dcm).st_mode) == mode
    finally:
        os.umask(old)


# --- DICOM input -----------------------------------------------------------


def mmode_region(truth, s_per_px):
    from mmecho.datasets.io import UltrasoundRegion
    p = {k: int(truth.get(k) or v) for k, v in PANEL.items()}
    return UltrasoundRegion(
        spatial_format=2,
        data_type=1,
        x0=p['panel_left'],
        y0=p['panel_top'],
        x1=p['panel_right'] - 1,
        y1=p['panel_bottom'] - 1,
        units_x=4,
        units_y=3,
        delta_x=s_per_px,
        delta_y=float(truth['cm_per_px']))


def test_dicom_from_annotations_calibrates_depth_and_time(meis_root, tmp_path):
    from mmecho.datasets.io import write_us_dicom
    coco = load_coco(meis_root)
    truth = truth_rows(meis_root)
    image_dir = tmp_path / 'dicom'
    s_per_px = {}
    imgs = []
    for k, info in enumerate(coco['images']):
        t = truth[info['file_name']]
        # the phantom's own time scale when its truth gives it
        s_per_px[info['file_name']] = float(t.get('s_per_px') or 0.004)
        frame = cv2.imread(osp.join(meis_root, 'raw_image', info['file_name']))
        name = osp.splitext(info['file_name'])[0] + '.dcm'
        write_us_dicom(
            str(image_dir / name),
            frame, [mmode_region(t, s_per_px[info['file_name']])],
            compress='jpeg' if k % 2 else None)
        imgs.append(dict(info, file_name=name))
    # a sidecar does not override the DICOM region
    with open(image_dir / (osp.splitext(imgs[0]['file_name'])[0] + '.json'),
              'w') as f:
        json.dump({'cm_per_px': 0.05}, f)
    ann = save_coco(coco, imgs, tmp_path / 'dicom.json')
    out = str(tmp_path / 'out')
    tool = load_tool()
    tool.main(
        ['--from-annotations', ann, '--images',
         str(image_dir), '--out', out])
    rows = read(osp.join(out, 'measurements.csv'))
    cycles = read(osp.join(out, 'cycles.csv'))
    truth_cycles = read(osp.join(meis_root, 'truth_cycles.csv'))
    assert len(rows) == len(imgs)
    for row in rows:
        jpg = osp.splitext(row['image'])[0] + '.jpg'
        t, s = truth[jpg], s_per_px[jpg]
        assert row['status'] == 'ok', row
        assert row['calibration'] == 'dicom region'
        assert float(row['cm_per_px']) == pytest.approx(
            float(t['cm_per_px']), abs=2e-6)
        for k in ('IVSd', 'LVIDd', 'LA', 'AoR'):
            if t[k]:
                assert abs(float(row[k]) - float(t[k])) < 0.02, (jpg, k)
        mine = [c for c in cycles if c['image'] == row['image']]
        lengths = []
        for c in mine:
            if c['next_ed_col']:
                n = int(c['next_ed_col']) - int(c['ed_col'])
                lengths.append(n)
                assert float(c['duration_s']) == pytest.approx(n * s, abs=1e-6)
                assert float(c['heart_rate_bpm']) == pytest.approx(
                    60 / (n * s), abs=0.01)
            else:
                assert c['duration_s'] == c['heart_rate_bpm'] == ''
        assert lengths, jpg
        hr = float(row['heart_rate_bpm'])
        # the rate of the median cycle length (each ED-to-ED to a fraction
        # of a column, from the aligned waveforms), not of the whole-column
        # ED-to-ED of cycles.csv; they differ by less than a column
        n = float(row['cycle_length_px'])
        assert hr == pytest.approx(60 / (n * s), abs=0.01)
        assert abs(n - np.median(lengths)) < 1.5, (jpg, n, lengths)
        assert row['dicom_heart_rate_bpm'] == ''  # not in these files
        assert row['heart_rate_check'] == 'no DICOM heart rate'
        # ED-to-ED spacing against the phantom's cycles
        tc = sorted((int(c['cycle']), float(c['ed_col'])) for c in truth_cycles
                    if c['image'] == jpg)
        spacing = [b[1] - a[1] for a, b in zip(tc, tc[1:]) if b[0] == a[0] + 1]
        if spacing:
            assert np.mean(lengths) == pytest.approx(
                np.mean(spacing), rel=0.03), jpg
        if t.get('s_per_px'):
            assert hr == pytest.approx(float(t['heart_rate_bpm']), rel=0.03)
    # the user's --cm-per-px still wins; the time scale stays
    out2 = str(tmp_path / 'given')
    tool.main([
        '--from-annotations', ann, '--images',
        str(image_dir), '--out', out2, '--cm-per-px', '0.04'
    ])
    given = read(osp.join(out2, 'measurements.csv'))
    assert all(r['calibration'] == 'given' for r in given)
    assert [r['heart_rate_bpm'] for r in given] == \
        [r['heart_rate_bpm'] for r in rows]
    # one annotation entry cannot describe a cine
    frame = cv2.imread(
        osp.join(meis_root, 'raw_image', coco['images'][0]['file_name']))
    write_us_dicom(str(image_dir / imgs[0]['file_name']), [frame, frame])
    out3 = str(tmp_path / 'cine')
    tool.main([
        '--from-annotations',
        save_coco(coco, imgs[:1], tmp_path / 'one.json'), '--images',
        str(image_dir), '--out', out3
    ])
    row, = read(osp.join(out3, 'measurements.csv'))
    assert row['status'].startswith('multi-frame DICOM (2 frames)')


def test_dicom_folder_cine_and_resume_with_the_model(meis_root, tmp_path,
                                                     monkeypatch):
    from mmecho.datasets.io import write_us_dicom
    calls = oracle_measurer(meis_root, monkeypatch)
    coco = load_coco(meis_root)
    truth = truth_rows(meis_root)
    imgs = coco['images'][:3]
    raw = [
        cv2.imread(osp.join(meis_root, 'raw_image', i['file_name']))
        for i in imgs
    ]
    regions = [[mmode_region(truth[i['file_name']], 0.004)] for i in imgs]
    folder = tmp_path / 'mixed'
    folder.mkdir()
    shutil.copy(
        osp.join(meis_root, 'raw_image', imgs[0]['file_name']),
        folder / 'a.jpg')
    write_us_dicom(str(folder / 'b.dcm'), raw[1], regions[1])
    write_us_dicom(str(folder / 'c.dcm'), [raw[2]] * 3, regions[2])
    cut = write_us_dicom(str(tmp_path / 'd.dcm'), [raw[0]] * 4, regions[0])
    with open(cut, 'rb') as f:
        data = f.read()
    (folder / 'd.dcm').write_bytes(data[:len(data) - raw[0].size // 2])
    (folder / 'notes.dcm').write_text('not a DICOM file\n' * 20)
    tool, out = load_tool(), tmp_path / 'out'
    rows = run_model(tool, folder, out)
    assert list(rows) == [
        'a.jpg', 'b.dcm', 'c_frame00000', 'c_frame00001', 'c_frame00002',
        'd_frame00000', 'd_frame00001', 'd_frame00002', 'd_frame00003',
        'notes.dcm'
    ]
    assert len(calls) == 8
    for name in list(rows)[:8]:
        assert rows[name]['status'] == 'ok', name
    for name in ('b.dcm', 'c_frame00000', 'd_frame00002'):
        assert rows[name]['calibration'] == 'dicom region'
        assert rows[name]['heart_rate_bpm'] != ''
    assert rows['d_frame00003']['status'] == \
        'DICOM truncated: decoded 3 of 4 frames'
    assert rows['notes.dcm']['status'].startswith('unreadable image: ')
    assert 'DICM' in rows['notes.dcm']['status']
    assert sorted(os.listdir(out / 'overlays')) == sorted(
        n.replace('.jpg', '').replace('.dcm', '') + '.png'
        for n in list(rows)[:8])
    # the cine is replaced by a shorter one: its three old rows go
    write_us_dicom(str(folder / 'c.dcm'), [raw[1]] * 2, regions[1])
    rows2 = run_model(tool, folder, out)
    assert len(calls) == 10
    assert [n for n in rows2
            if n.startswith('c_')] == ['c_frame00000', 'c_frame00001']
    assert rows2['c_frame00000']['IVSd'] == rows['b.dcm']['IVSd'] or \
        rows2['c_frame00000']['AoR'] == rows['b.dcm']['AoR']
    cycles = read(osp.join(out, 'cycles.csv'))
    assert not [c for c in cycles if c['image'] == 'c_frame00002']
    assert {k: v for k, v in rows2.items() if not k.startswith('c_')} == \
        {k: v for k, v in rows.items() if not k.startswith('c_')}
