"""tools/measure.py writes its CSVs by appending one input's rows at a time
(flushed and fsync-ed to ``*.csv.partial``, moved into place when the run
ends), so the write cost of a frame does not grow with the rows already
written, and a run killed outright resumes from the partial files.

The cost is counted in bytes, not timed: every file the tool opens under
``--out`` is wrapped, and the bytes written through it while one frame is
measured are that frame's cost. Rewriting the whole table after every frame
(the former design) writes ``k`` rows for frame ``k``.
"""
import builtins
import csv
import os
import os.path as osp

from . import test_measure_video as _video
from .test_measure_cli import load_tool, read

# the fixtures of test_measure_video.py: a phantom screen, a stub network
screen, stub_network = _video.screen, _video.stub_network
write_video = _video.write_video

N_FRAMES = 60


class _CountingFile:
    """A file object whose ``write`` adds the bytes to a counter."""

    def __init__(self, f, counter):
        self._f, self._counter = f, counter

    def write(self, data):
        self._counter[0] += len(data)
        return self._f.write(data)

    def __enter__(self):
        self._f.__enter__()
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)

    def __iter__(self):
        return iter(self._f)

    def __getattr__(self, name):
        return getattr(self._f, name)


class _Counter(list):
    real_open = None


def _count_writes(monkeypatch, folder):
    """Count the bytes written to files under ``folder``."""
    counter = _Counter([0])
    real_open = counter.real_open = builtins.open
    folder = osp.abspath(str(folder))

    def counting_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and any(
                c in mode for c in 'wax+') and osp.abspath(
                    os.fspath(file)).startswith(folder):
            return _CountingFile(f, counter)
        return f

    monkeypatch.setattr(builtins, 'open', counting_open)
    return counter


def _run(tool, video, out):
    tool.main([
        'cfg.py', 'weights.pth', video, '--out',
        str(out), '--cm-per-px', '0.04', '--no-scale-reading', '--no-overlays',
        '--log-interval', '0'
    ])


def test_per_frame_write_cost_is_flat(screen, stub_network, tmp_path,
                                      monkeypatch):
    tool = load_tool()
    video = write_video(tmp_path / 'v.avi', screen[0], N_FRAMES)
    out = tmp_path / 'out'
    counter = _count_writes(monkeypatch, out)
    per_frame = []
    real = tool.measure_one

    def measure_one(*args, **kwargs):
        before = counter[0]
        real(*args, **kwargs)
        per_frame.append(counter[0] - before)

    monkeypatch.setattr(tool, 'measure_one', measure_one)
    _run(tool, video, out)
    monkeypatch.setattr(builtins, 'open', counter.real_open)
    rows = read(osp.join(out, 'measurements.csv'))
    assert len(rows) == len(per_frame) == N_FRAMES
    assert all(r['status'] == 'ok' for r in rows)
    assert not os.listdir(out) or not [
        n for n in os.listdir(out) if n.endswith('.partial')
    ]
    # frame 0 creates the partial files (header + its rows); every later
    # frame appends its own rows only: the same few hundred bytes at the
    # end of the run as at its start (rows differ by a few characters)
    early, late = per_frame[1:11], per_frame[-10:]
    row_bytes = osp.getsize(osp.join(out, 'measurements.csv')) / N_FRAMES
    assert max(late) <= 1.2 * max(early) + 64, (early, late)
    assert max(late) < 4 * row_bytes + 2 * osp.getsize(
        osp.join(out, 'cycles.csv')) / N_FRAMES, (late, row_bytes)
    # the whole run wrote about the final files' size, not N^2 / 2 rows
    total = osp.getsize(osp.join(out, 'measurements.csv')) + osp.getsize(
        osp.join(out, 'cycles.csv'))
    assert sum(per_frame) < 1.5 * total, (sum(per_frame), total)


def test_killed_run_resumes_from_the_partial_files(screen, stub_network,
                                                   tmp_path, monkeypatch):
    """A run killed outright (no ``close``: the partial files stay, the last
    record cut half-way) resumes: every frame once, the rows of a clean
    run, no partial file left."""
    tool = load_tool()
    video = write_video(tmp_path / 'v.avi', screen[0], 12)
    clean = tmp_path / 'clean'
    _run(tool, video, clean)
    out = tmp_path / 'out'
    real = tool.measure_one
    calls = []

    def killed_at_eighth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt('simulated kill')
        return real(*args, **kwargs)

    real_close = tool.CsvTable.close
    monkeypatch.setattr(tool, 'measure_one', killed_at_eighth)
    monkeypatch.setattr(tool.CsvTable, 'close', lambda self: None)
    try:
        _run(tool, video, out)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(tool, 'measure_one', real)
    monkeypatch.setattr(tool.CsvTable, 'close', real_close)
    partial = osp.join(out, 'measurements.csv.partial')
    assert not osp.exists(osp.join(out, 'measurements.csv'))
    with open(partial, 'rb') as f:
        data = f.read()
    assert data.count(b'\n') == 8  # header + 7 rows
    with open(partial, 'wb') as f:  # the 7th row cut while being written
        f.write(data[:len(data) - 40])
    uncut = read(partial)[:6]
    _run(tool, video, out)
    assert sorted(os.listdir(out)) == ['cycles.csv', 'measurements.csv']
    rows = read(osp.join(out, 'measurements.csv'))
    assert rows == read(osp.join(clean, 'measurements.csv'))
    assert rows[:6] == uncut
    cycles = read(osp.join(out, 'cycles.csv'))
    keys = [(c['image'], c['cycle']) for c in cycles]
    assert len(keys) == len(set(keys))
    assert cycles == read(osp.join(clean, 'cycles.csv'))


def test_table_appends_in_place(tmp_path):
    """CsvTable: each add appends to the same file (same inode, the earlier
    bytes untouched); a replaced row rewrites it; ``close`` moves it to the
    final name; quoted fields with newlines survive."""
    tool = load_tool()
    path = str(tmp_path / 't.csv')
    fields = ['image', 'status', 'sha256']
    table = tool.CsvTable(path, fields)
    assert not osp.exists(table.partial)  # nothing written yet
    table.add([dict(image='a', status='ok', sha256='1')])
    inode = os.stat(table.partial).st_ino
    with open(table.partial, 'rb') as f:
        before = f.read()
    for i in range(20):
        table.put(dict(image=f'f{i}', status='error: x\ny, "z"', sha256=''))
        with open(table.partial, 'rb') as f:
            now = f.read()
        assert now.startswith(before) and len(now) > len(before)
        assert os.stat(table.partial).st_ino == inode
        before = now
    table.put(dict(image='a', status='ok', sha256='2'))  # a replacement
    table.close()
    assert not osp.exists(table.partial)
    again = tool.CsvTable(path, fields)
    assert [r['image']
            for r in again.rows] == ['a'] + [f'f{i}' for i in range(20)]
    assert again.rows[0]['sha256'] == '2'
    assert again.rows[1]['status'] == 'error: x\ny, "z"'
    # a partial file cut inside a quoted field loses that record only
    again.add([dict(image='g', status='error: a\nb', sha256='3')])
    again._close_file()
    with open(again.partial, newline='') as f:
        text = f.read()
    with open(again.partial, 'w', newline='') as f:
        # cut after the newline inside the quoted 'error: a\nb'
        f.write(text[:text.index('a\nb') + 2])
    third = tool.CsvTable(path, fields)
    assert [r['image'] for r in third.rows][-1] == 'f19'
    third.close()
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 21 and rows[-1]['image'] == 'f19'
    # a cut without the quote: the record lacks its line end
    fourth = tool.CsvTable(path, fields)
    fourth.add([dict(image='h', status='ok', sha256='4')])
    fourth._close_file()
    with open(fourth.partial, 'rb') as f:
        data = f.read()
    with open(fourth.partial, 'wb') as f:
        f.write(data[:-2])  # 'h,ok,4' without '\r\n'
    assert [r['image'] for r in tool.CsvTable(path, fields).rows][-1] == 'f19'


def test_appending_to_a_csv_with_the_older_columns(screen, stub_network,
                                                   tmp_path, capsys):
    """A measurements.csv written before the heart-rate columns existed
    (``ADDED_FIELDS``, after ``sha256``): its rows stay as they were (blank
    in the new columns, not measured again), new rows are appended with
    them, the file gets the new header; any other header is refused."""
    import pytest

    from mmecho.datasets.io import DatasetFormatError
    tool = load_tool()
    out = tmp_path / 'out'
    _run(tool, write_video(tmp_path / 'a.avi', screen[0], 3), out)
    path = osp.join(out, 'measurements.csv')
    rows = read(path)
    new_fields = list(rows[0])
    assert new_fields[-3:] == list(tool.ADDED_FIELDS)
    assert new_fields[-4] == 'sha256'
    old_fields = new_fields[:-3]
    with open(path, 'w', newline='') as f:  # as an older mmecho wrote it
        w = csv.DictWriter(f, old_fields, extrasaction='ignore')
        w.writeheader()
        w.writerows(rows)
    capsys.readouterr()
    _run(tool, write_video(tmp_path / 'b.avi', screen[0], 2), out)
    assert 'older' in capsys.readouterr().out
    again = read(path)
    assert list(again[0]) == new_fields
    assert [r['image'] for r in again] == [
        'a_frame00000', 'a_frame00001', 'a_frame00002', 'b_frame00000',
        'b_frame00001'
    ]
    for old, r in zip(rows, again[:3]):
        assert r == dict(old, **dict.fromkeys(tool.ADDED_FIELDS, ''))
    for r in again[3:]:
        assert r['status'] == 'ok'
        assert r['heart_rate_check'] == 'no DICOM heart rate'
        assert r['cycle_length_px'] != ''
    # resuming the upgraded file: nothing measured again, nothing changed
    _run(tool, write_video(tmp_path / 'b.avi', screen[0], 2), out)
    assert read(path) == again
    # another header is still refused, naming the file
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerow(old_fields[:-1])
    with pytest.raises(DatasetFormatError, match='measurements.csv'):
        _run(tool, write_video(tmp_path / 'b.avi', screen[0], 2), out)
