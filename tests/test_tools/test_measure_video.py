"""tools/measure.py on long videos and cines: frame by frame, with the
per-frame latency split into decode / network / measurement / output, in
flat memory, and with a status row for a video OpenCV cannot open.

The network is replaced by a stub (the phantom's annotated masks, resized to
the frame), so these tests time and trace the streaming machinery, not a
model.
"""
import gc
import glob
import os.path as osp
import re
import time
import tracemalloc

import cv2
import numpy as np
import pytest

from .test_measure_cli import load_tool, read

SIZE = (320, 240)  # (W, H) of the generated videos
SUMMARY = re.compile(r'^frames: (\d+), decode ([\d.]+) ms, network ([\d.]+) '
                     r'ms, measurement ([\d.]+) ms, output ([\d.]+) ms per '
                     r'frame, ([\d.]+) frames/s$')


@pytest.fixture(scope='module')
def screen(meis_root):
    """An annotated phantom LV screen and its masks, resized to SIZE."""
    from mmecho.measurement import iter_coco_bands
    for info, bands in iter_coco_bands(
            osp.join(meis_root, 'Allmode_train.json'), bitmaps=True):
        if set(bands) == {'IVS', 'LVPW'}:
            img = cv2.imread(
                osp.join(meis_root, 'raw_image', info['file_name']))
            img = cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA)
            masks = {
                k: cv2.resize(
                    v.astype(np.uint8), SIZE,
                    interpolation=cv2.INTER_NEAREST).astype(bool)
                for k, v in bands.items()
            }
            return img, masks
    pytest.skip('no LV screen in the phantom')


@pytest.fixture
def stub_network(screen, monkeypatch):
    """The model: the screen's masks for any frame of its size, after 1 ms.
    """
    from mmecho.apis import MModeMeasurer
    masks = screen[1]
    calls = []

    class Stub(MModeMeasurer):

        def __init__(self, config=None, checkpoint=None, device='cpu',
                     score_thr=0.3, cm_per_px=None, read_scale=True,
                     allow_partial_checkpoint=False):
            super().__init__(None, cm_per_px=cm_per_px, read_scale=read_scale)

        def predict_masks(self, image):
            calls.append(1)
            assert image.shape[:2] == (SIZE[1], SIZE[0])
            time.sleep(0.001)  # a network takes time: its stage is > 0
            return masks

    monkeypatch.setattr('mmecho.apis.MModeMeasurer', Stub)
    return calls


def write_video(path, image, n):
    """``n`` frames of ``image``, each shifted a little (MJPG .avi)."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25, SIZE)
    if not writer.isOpened():
        pytest.skip('no MJPG writer in this OpenCV build')
    for i in range(n):
        writer.write(np.roll(image, i % 7, axis=1))
    writer.release()
    return str(path)


def run(tool, path, out, *extra):
    tool.main(['cfg.py', 'weights.pth', str(path), '--out', str(out),
               '--cm-per-px', '0.04', '--no-scale-reading', *extra])
    return read(osp.join(out, 'measurements.csv'))


def summary(text):
    lines = [m for m in map(SUMMARY.match, text.splitlines()) if m]
    assert lines, text[-2000:]
    return lines


def traced_peak(tool, path, out):
    """Peak traced Python/numpy memory (bytes) of one run, above what was
    allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run(tool, path, out, '--log-interval', '0')
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_long_video_streams_in_flat_memory(screen, stub_network, tmp_path,
                                           capsys):
    """300 frames give 300 rows, progress lines and a summary line, and
    use no more memory than 30 frames.

    Memory criterion: the peak of tracemalloc (every Python object and
    every numpy array, so decoded frames, masks and overlays included) of a
    300-frame run may exceed that of a 30-frame run by less than 10 % of
    one frame's bytes per extra frame. Keeping any per-frame image (230 kB
    for a 320x240 BGR frame, 77 kB per mask) would add at least
    270 x 77 kB = 21 MB, against a 30-frame peak of about 1.5 MB. What does
    grow with the frame count is the results table, which measure.py keeps
    in memory (its rows are appended to the CSV files as they come, see
    test_measure_append.py): about 2.5 kB per frame here, so a plain ratio
    (300 vs 30 frames: about 1.45x)
    would depend on the frame count and the baseline and would be fragile;
    the per-frame bound is not. Native buffers of the decoder (FFmpeg) are
    not traced, but they are per stream, not per frame.
    """
    tool = load_tool()
    image = screen[0]
    long_video = write_video(tmp_path / 'long.avi', image, 300)
    rows = run(tool, long_video, tmp_path / 'out', '--log-interval', '100')
    text = capsys.readouterr().out
    assert [r['image'] for r in rows] == [
        f'long_frame{i:05d}' for i in range(300)
    ]
    assert all(r['status'] == 'ok' and r['unit'] == 'cm' for r in rows)
    assert len(stub_network) == 300
    overlays = glob.glob(osp.join(tmp_path / 'out', 'overlays', '*.png'))
    assert len(overlays) == 300
    lines = summary(text)
    # 3 progress lines (100, 200, 300 frames) and the final summary
    assert [int(m.group(1)) for m in lines] == [100, 100, 100, 300]
    final = lines[-1]
    assert all(float(final.group(k)) > 0 for k in range(2, 7)), final.group()
    print(final.group())  # shown with pytest -s

    short_video = write_video(tmp_path / 'short.avi', image, 30)
    peak_short = traced_peak(tool, short_video, tmp_path / 'short_out')
    peak_long = traced_peak(tool, long_video, tmp_path / 'long_out')
    capsys.readouterr()
    frame_bytes = image.nbytes
    print(f'traced peak: 30 frames {peak_short / 1e6:.2f} MB, '
          f'300 frames {peak_long / 1e6:.2f} MB')
    assert (peak_long - peak_short) / 270 < 0.1 * frame_bytes, (peak_short,
                                                                peak_long)


def test_cine_dicom_streams_frame_by_frame(screen, stub_network, tmp_path,
                                           capsys):
    from mmecho.datasets.io import write_us_dicom
    image = screen[0]
    path = write_us_dicom(
        str(tmp_path / 'cine.dcm'),
        [np.roll(image, i, axis=1) for i in range(12)])
    rows = run(load_tool(), path, tmp_path / 'out', '--log-interval', '5')
    assert [r['image'] for r in rows] == [
        f'cine_frame{i:05d}' for i in range(12)
    ]
    assert all(r['status'] == 'ok' for r in rows)
    lines = summary(capsys.readouterr().out)
    assert [int(m.group(1)) for m in lines] == [5, 5, 12]


def test_video_opencv_cannot_open(screen, stub_network, tmp_path, capsys):
    """A file with a video extension that is no video: a status row naming
    the file, alone or in a folder next to a good video, never a crash or a
    silent skip."""
    tool = load_tool()
    bad = tmp_path / 'clips' / 'broken.mp4'
    bad.parent.mkdir()
    bad.write_bytes(b'\x00\x00\x00\x18ftypmp42 but nothing else' * 50)
    rows = run(tool, bad, tmp_path / 'alone')
    assert [r['image'] for r in rows] == ['broken.mp4']
    assert rows[0]['status'] == (
        f'unreadable video: {bad}: OpenCV cannot open it')
    assert rows[0]['n_cycles'] == '0' and rows[0]['IVSd'] == ''
    assert not stub_network
    assert summary(capsys.readouterr().out)[-1].group(1) == '1'

    write_video(tmp_path / 'clips' / 'good.avi', screen[0], 4)
    rows = {r['image']: r for r in run(tool, bad.parent, tmp_path / 'folder')}
    assert list(rows) == ['broken.mp4'] + [
        f'good_frame{i:05d}' for i in range(4)
    ]
    assert rows['broken.mp4']['status'].startswith('unreadable video: ')
    assert all(rows[f'good_frame{i:05d}']['status'] == 'ok'
               for i in range(4))
