# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM: segment M-mode captures, measure them, write overlays and a CSV.

    # with a model: an image, a DICOM file (one frame or a cine), a folder
    # of images and DICOM files, or a video
    python tools/measure.py CONFIG CKPT INPUT --out OUT_DIR [--cm-per-px X]
        [--score-thr 0.3] [--device cpu] [--reference TRUTH.csv]
    # the same with the network exported to ONNX
    # (tools/deployment/pytorch2onnx.py), run by onnxruntime: no checkpoint
    python tools/measure.py CONFIG INPUT --backend onnxruntime
        --onnx MODEL.onnx --out OUT_DIR [...]
    # ground-truth masks of a COCO file (no model); file_names may be .dcm
    python tools/measure.py --from-annotations ANN.json --images DIR
        --out OUT_DIR [--reference TRUTH.csv]
    # any of these with --sr: a DICOM Structured Report per DICOM input

Writes ``OUT_DIR/measurements.csv`` (one row per image or frame, mean of the
cycles, cm when calibrated, heart rate when the DICOM region calibrates time,
a ``status`` column and the ``sha256`` of the input), ``OUT_DIR/cycles.csv``
(every cycle, with its duration), ``OUT_DIR/overlays/`` (masks, calipers,
values) and, with ``--reference``, ``agreement.csv`` (MAE, MSE, bias, limits
of agreement per indicator) and ``bland_altman.png``.

With ``--sr``: one DICOM Comprehensive SR (TID 5200 echo report, M-mode
measurement groups; docs/dicom_sr.md) per measured DICOM input (per frame row
of a cine) in ``OUT_DIR/sr/<stem>.dcm``, with the patient and study of its
source, and ``OUT_DIR/sr/index.csv``: per row its ``status`` (``written`` or
``not written: not a DICOM input`` / ``nothing measured`` / ...) and ``file``.

Heart rate (``measurements.csv``): ``heart_rate_bpm`` = 60 / (cycle length x
seconds per pixel column), with the time scale of the DICOM M-mode region
(``PhysicalDeltaX`` in s) and the cycle length ``cycle_length_px`` (also
without a time scale): the median over the cycles of each ED-to-ED interval,
measured to a fraction of a column by aligning the waveform of one cycle with
the next (``cycles.csv`` keeps each cycle's whole-column ED-to-ED, its
duration and rate). ``dicom_heart_rate_bpm`` is the file's own Heart Rate
(0018,1088), as the scanner recorded it; ``heart_rate_check`` compares the two:
``agree`` when |measured - DICOM| / DICOM <= 5 %, ``disagree: measured is
+X.X % off the DICOM heart rate``, ``no DICOM heart rate``, ``no measured heart
rate`` or ``DICOM heart rate unreadable: ...`` (a malformed value is reported,
never used). These three columns come after ``sha256``; an existing
``measurements.csv`` with the older columns gets them (blank in its old rows,
which are kept as they are) and is rewritten with the new header.

With ``--backend onnxruntime`` the network is the ONNX file's, run on the
CPU; the config still gives the test pipeline and the head post-processing
(mmdet's code, see ``mmecho/deployment/onnxruntime_backend.py``), so the
masks and the rows are those of the PyTorch run of the same weights.

Every input gets a row: one that cannot be measured (unreadable, truncated,
too small, not the image its annotation describes, a COCO file_name that
leaves --images) gets a status saying why and no values; only ``ok`` rows
carry measurements. Files are written atomically, inside OUT_DIR only (output
names are sanitised). The CSVs grow by one appended row per input (flushed
and fsync-ed to ``OUT_DIR/*.csv.partial``, moved into place when the run
ends or stops), so a long video costs the same per frame at its end as at
its start. A run that is interrupted resumes where it stopped: rows whose
name and sha256 match the input are skipped, a changed file is measured
again and its old rows are replaced, no row is duplicated; a run killed
outright resumes from the ``.partial`` files.
"""
import argparse
import csv
import io
import json
import os
import os.path as osp
import re
import sys
import time

import cv2
import numpy as np

INDICATORS = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA')
#: measurements.csv columns added after the first release, after ``sha256``
ADDED_FIELDS = ('dicom_heart_rate_bpm', 'heart_rate_check', 'cycle_length_px')
#: OUT_DIR/sr/index.csv (``--sr``): one row per measurements.csv row
SR_FIELDS = ['image', 'status', 'file', 'sha256']
CYCLE_FIELDS = [
    'image', 'type', 'cycle', 'ed_col', 'es_col', 'next_ed_col', 'duration_s',
    'heart_rate_bpm', *INDICATORS, 'unit'
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='measurements.csv: heart_rate_bpm = 60 / (cycle_length_px x '
        "the DICOM region's seconds per column); cycle_length_px = median "
        'ED-to-ED over the cycles, sub-pixel (also without a time scale); '
        "dicom_heart_rate_bpm = the file's Heart Rate (0018,1088); "
        'heart_rate_check = agree (within 5 %) / disagree: ... / no DICOM '
        'heart rate / no measured heart rate / DICOM heart rate unreadable: '
        '... (a malformed value is never used). An older measurements.csv '
        'without these columns gets them (blank in its old rows).')
    p.add_argument('positional', nargs='*', metavar='CONFIG [CKPT] INPUT')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument(
        '--from-annotations',
        metavar='ANN.json',
        help='measure the masks of a COCO file instead')
    p.add_argument('--images', help='image folder of --from-annotations')
    p.add_argument('--cm-per-px', type=float, default=None)
    p.add_argument(
        '--no-scale-reading',
        action='store_true',
        help='do not read the depth-scale ticks')
    p.add_argument('--score-thr', type=float, default=0.3)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime'),
        default='pytorch',
        help='run the network with PyTorch (CONFIG CKPT INPUT, default) or '
        'onnxruntime (CONFIG INPUT --onnx MODEL.onnx)')
    p.add_argument(
        '--onnx',
        metavar='MODEL.onnx',
        help='the exported network of --backend onnxruntime')
    p.add_argument(
        '--reference',
        metavar='TRUTH.csv',
        help='CSV with an "image" column and indicators in cm')
    p.add_argument('--no-overlays', action='store_true')
    p.add_argument(
        '--sr',
        action='store_true',
        help='also write a DICOM Structured Report (TID 5200, M-mode '
        'measurements) per DICOM input to OUT_DIR/sr/ (status of each row '
        'in OUT_DIR/sr/index.csv; see docs/dicom_sr.md)')
    p.add_argument(
        '--log-interval',
        type=int,
        default=100,
        metavar='N',
        help='print the per-frame latency (decode, network, measurement, '
        'output) every N inputs (0: only the final summary)')
    from mmecho.engine.checkpoint import add_checkpoint_args
    add_checkpoint_args(p)
    args = p.parse_args(argv)
    if args.from_annotations:
        if args.positional:
            p.error('--from-annotations takes no CONFIG CKPT INPUT')
        if not args.images:
            p.error('--from-annotations needs --images DIR')
        if args.backend != 'pytorch' or args.onnx:
            p.error('--from-annotations runs no model (no --backend/--onnx)')
    elif args.backend == 'onnxruntime':
        if not args.onnx:
            p.error('--backend onnxruntime needs --onnx MODEL.onnx')
        if len(args.positional) != 2:
            p.error('expected CONFIG INPUT with --backend onnxruntime (the '
                    'weights come from --onnx)')
    else:
        if args.onnx:
            p.error('--onnx needs --backend onnxruntime')
        if len(args.positional) != 3:
            p.error('expected CONFIG CKPT INPUT (or --from-annotations '
                    'ANN.json --images DIR)')
    return args


class CsvTable:
    """A results CSV that grows by appending, and survives interruptions.

    While a run goes on, the table lives in ``PATH.partial`` (the same
    header and columns): every added row is appended to it, flushed and
    ``fsync``-ed, so adding a row writes that row only, however many rows
    are already there. :meth:`close` (at the end of a run, also after an
    exception or Ctrl-C) renames it to ``PATH`` with ``os.replace``, so
    ``PATH`` is always a complete CSV and appears atomically.

    A run killed before :meth:`close` (power loss, SIGKILL) leaves
    ``PATH.partial``: the next run starts from its rows (it holds every row
    of ``PATH`` and the newer ones), dropping a last record that was cut
    while being written. Removing or replacing rows already in the file
    (an input whose content changed, or a row that ended in an error being
    measured again) rewrites the partial file atomically: that costs one
    pass over the table per changed input, not per frame.
    """

    SUFFIX = '.partial'

    def __init__(self, path, fields, added=()):
        self.path, self.fields, self.rows = path, list(fields), []
        #: columns appended since an older version: a table with the older
        #: header (``fields`` without them) is upgraded (they are blank in
        #: its rows) and rewritten with the full header
        self.added = tuple(added)
        self.upgraded = 0  # number of rows read with the older header
        self.partial = path + self.SUFFIX
        self._file = self._writer = None
        self._dirty = False  # rows removed in memory, not yet on disk
        self._count = {}  # image -> number of rows
        if osp.isfile(self.partial):
            self.rows, torn = self._read(self.partial)
            if torn:  # drop the cut record before appending after it
                self._rewrite()
        elif osp.isfile(path):
            self.rows, _ = self._read(path)
        if self.upgraded:  # the partial file gets the full header first
            self._dirty = True
        for r in self.rows:
            self._count[r['image']] = self._count.get(r['image'], 0) + 1

    def _read(self, path):
        """(rows, whether a cut last record was dropped) of a CSV written
        by this class."""
        from mmecho.datasets.io import DatasetFormatError
        with open(path, newline='', encoding='utf-8') as f:
            text = f.read()
        records = []
        reader = csv.reader(io.StringIO(text), strict=True)
        # a record is complete when its line terminator was written: a
        # file cut inside a quoted field stops the reader (the cut record
        # is not in ``records``), one cut elsewhere lacks the final newline
        # (its last record is cut)
        try:
            for rec in reader:
                records.append(rec)
            cut = bool(text) and not text.endswith('\n')
            torn = cut
        except csv.Error:
            cut, torn = False, True
        if torn and path != self.partial:
            raise DatasetFormatError(path, 'the last row is incomplete')
        if cut:
            records.pop()
        if not records:
            return [], torn
        header = records[0]
        older = [f for f in self.fields if f not in self.added]
        if header != self.fields and not (self.added and header == older):
            raise DatasetFormatError(
                path, f'columns {header} differ from {self.fields}: use '
                'another --out or delete it',
                field='header')
        records = records[1:]
        n = len(header)
        for i, rec in enumerate(records):
            if len(rec) != n:
                raise DatasetFormatError(
                    path, f'row {i + 1} has {len(rec)} columns, the header '
                    f'{n}',
                    field='row')
        rows = [dict(zip(header, rec)) for rec in records]
        if header != self.fields:
            # written before ``added`` existed: blank there
            for r in rows:
                for f in self.added:
                    r[f] = ''
            self.upgraded = len(rows)
        return rows, torn

    def names(self):
        return set(self._count)

    def _close_file(self):
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None

    def _rewrite(self):
        """Write every row to the partial file atomically."""
        from mmecho.utils import atomic_write
        self._close_file()
        with atomic_write(self.partial, 'w') as f:
            w = csv.DictWriter(f, self.fields)
            w.writeheader()
            w.writerows(self.rows)
            f.flush()
            os.fsync(f.fileno())
        self._dirty = False

    def _append(self, rows):
        if self._dirty or not osp.isfile(self.partial):
            self._rewrite()  # the rows are in self.rows already
            return
        if self._file is None:
            self._file = open(self.partial, 'a', newline='', encoding='utf-8')
            self._writer = csv.DictWriter(self._file, self.fields)
        self._writer.writerows(rows)
        self._file.flush()
        os.fsync(self._file.fileno())

    def remove(self, names, save=True):
        """Drop the rows of ``names`` (a set); a rewrite only when some
        of them are there."""
        if not any(n in self._count for n in names):
            return
        self.rows = [r for r in self.rows if r['image'] not in names]
        for n in names:
            self._count.pop(n, None)
        self._dirty = True
        if save:
            self._rewrite()

    def add(self, rows):
        rows = list(rows)
        self.rows.extend(rows)
        for r in rows:
            self._count[r['image']] = self._count.get(r['image'], 0) + 1
        # no rows: still write the header once (an empty table is a file)
        if rows or self._dirty or not osp.isfile(self.partial):
            self._append(rows)

    def put(self, row):
        """Replace the row of ``row['image']`` in place, or append it."""
        if row['image'] not in self._count:
            self.add([row])
            return
        for i, r in enumerate(self.rows):
            if r['image'] == row['image']:
                self.rows[i] = row
                break
        self._rewrite()

    def close(self):
        """Move the partial file (if this or an interrupted run wrote one)
        to ``PATH``."""
        if self._dirty:
            self._rewrite()
        self._close_file()
        if osp.isfile(self.partial):
            os.replace(self.partial, self.path)
            try:  # make the rename itself durable
                fd = os.open(osp.dirname(osp.abspath(self.path)), os.O_RDONLY)
            except OSError:
                return
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)


def _fmt(v, spec):
    return '' if v is None else format(v, spec)


def result_rows(name, result):
    """(measurements.csv row, cycles.csv rows) of one measured image."""
    row = dict(image=name, **result.as_row())
    scale = result.cm_per_px or 1.0
    unit = 'cm' if result.cm_per_px is not None else 'px'
    cycles = []
    for k, c in enumerate(result.cycles):
        r = dict(
            image=name,
            type=result.image_type,
            cycle=k,
            ed_col=c.ed_col,
            es_col=c.es_col,
            next_ed_col=_fmt(c.next_ed_col, 'd'),
            duration_s=_fmt(result.duration_s(k), '.6f'),
            heart_rate_bpm=_fmt(result.cycle_heart_rate_bpm(k), '.2f'),
            unit=unit)
        for key in INDICATORS:
            v = c.values_px.get(key)
            r[key] = '' if v is None else f'{v * scale:.4f}'
        cycles.append(r)
    return row, cycles


def status_row(name, status, item=None):
    """A measurements.csv row without values, saying why (with the DICOM
    heart rate of ``item`` when it has one)."""
    from mmecho.measurement import MModeMeasurement
    result = MModeMeasurement('unknown', status)
    if item is not None:
        result.dicom_heart_rate_bpm = item.dicom_heart_rate_bpm
        result.dicom_heart_rate_problem = item.dicom_heart_rate_problem
    return dict(image=name, **result.as_row())


def write_overlay(out_dir, stem, image, result, masks):
    """Draw one image's measurement into ``out_dir/overlays/{stem}.png``
    (``stem`` is a sanitised name, see ``OutputNames``)."""
    from mmecho.utils import atomic_write
    from mmecho.visualization import draw_mmode_measurement
    vis = draw_mmode_measurement(image, result, masks)
    ok, buf = cv2.imencode('.png', vis)
    if not ok:
        raise ValueError(f'OpenCV could not encode the overlay of {stem}')
    overlays = osp.join(osp.abspath(out_dir), 'overlays')
    path = osp.join(overlays, stem + '.png')
    # OutputNames already guarantees this; never write outside --out
    assert osp.dirname(osp.abspath(path)) == overlays, path
    with atomic_write(path) as f:
        f.write(buf.tobytes())


def edges_to_masks(masks, shape):
    """Masks for drawing when the measurement used polygon edges."""
    h, w = shape[:2]
    out = {}
    rows = np.arange(h)[:, None] + 0.5
    for name, m in masks.items():
        if isinstance(m, tuple):
            top, bottom = m
            with np.errstate(invalid='ignore'):
                out[name] = (rows >= top[None]) & (rows < bottom[None])
        else:
            out[name] = m
    return out


def compare(out_dir, rows, reference):
    from mmecho.datasets.io import DatasetFormatError
    from mmecho.measurement import (AV_INDICATORS, LV_INDICATORS, agreement,
                                    bland_altman_figure)
    from mmecho.utils import atomic_write_text
    with open(reference, newline='') as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or 'image' not in reader.fieldnames:
            raise DatasetFormatError(
                reference, 'no "image" column', field='image')
        ref = {r['image']: r for r in reader}
    names = LV_INDICATORS + AV_INDICATORS
    pairs = {n: [] for n in names}
    for row in rows:
        r = ref.get(row['image'])
        if r is None or row['status'] != 'ok' or row['unit'] != 'cm':
            continue
        for n in names:
            if row.get(n) and r.get(n):
                pairs[n].append((float(row[n]), float(r[n])))
    stats = agreement(pairs)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([
        'indicator', 'n', 'MAE_cm', 'MSE_cm2', 'bias_cm', 'loa_low_cm',
        'loa_high_cm'
    ])
    for n in names:
        if n in stats:
            s = stats[n]
            w.writerow([n, s['n']] + [
                f'{s[k]:.4f}'
                for k in ('MAE', 'MSE', 'bias', 'loa_low', 'loa_high')
            ])
    atomic_write_text(osp.join(out_dir, 'agreement.csv'), buf.getvalue())
    bland_altman_figure(pairs, names, osp.join(out_dir, 'bland_altman.png'))
    print('\nagreement with', reference)
    print(f'{"indicator":10s} {"n":>4s} {"MAE cm":>8s} {"MSE":>8s} '
          f'{"bias":>8s}')
    for n in names:
        if n in stats:
            s = stats[n]
            print(f'{n:10s} {s["n"]:4d} {s["MAE"]:8.4f} {s["MSE"]:8.4f} '
                  f'{s["bias"]:8.4f}')
    return stats


class Latency:
    """Wall time per stage, summed over the inputs of a run (constant
    memory: only totals are kept).

    Stages: ``decode`` (reading and decoding an input: the time spent
    waiting on the input iterator), ``network`` (``predict_masks``),
    ``measurement`` (``measure_masks``) and ``output`` (overlay and CSV
    writing). Averages are per input (a status row counts, with no network
    or measurement time), ``frames/s`` is inputs per second of the loop.
    """
    STAGES = ('decode', 'network', 'measurement', 'output')

    def __init__(self):
        self.total = dict.fromkeys(self.STAGES, 0.0)
        self.frames = 0
        self.start = time.perf_counter()
        self._mark = (dict(self.total), 0, self.start)

    def add(self, stage, seconds):
        self.total[stage] += seconds

    def _line(self, total, frames, seconds):
        n = max(frames, 1)
        ms = ', '.join(f'{k} {total[k] * 1000 / n:.2f} ms'
                       for k in self.STAGES)
        fps = frames / seconds if seconds > 0 else float('inf')
        return f'frames: {frames}, {ms} per frame, {fps:.2f} frames/s'

    def since_mark(self):
        """The line for the inputs since the last call (progress)."""
        now = time.perf_counter()
        total0, frames0, t0 = self._mark
        line = self._line({k: self.total[k] - total0[k]
                           for k in self.STAGES}, self.frames - frames0,
                          now - t0)
        self._mark = (dict(self.total), self.frames, now)
        return line

    def summary(self):
        return self._line(self.total, self.frames,
                          time.perf_counter() - self.start)


def measure_item(item, measurer, from_annotations, latency=None):
    """(result, masks to draw) of one readable input, or (status, None);
    adds the network and measurement times to ``latency`` if given."""
    from mmecho.apis.mmode_inputs import image_problem
    problem = image_problem(item.image)
    if problem:
        return problem, None
    clock = time.perf_counter
    dicom_hr = dict(
        dicom_heart_rate_bpm=item.dicom_heart_rate_bpm,
        dicom_heart_rate_problem=item.dicom_heart_rate_problem)
    try:
        if from_annotations:
            masks = item.bands
            t0 = clock()
            result = measurer.measure_masks(masks, item.image, item.path,
                                            item.region, **dicom_hr)
            latency and latency.add('measurement', clock() - t0)
            draw = edges_to_masks(masks, item.image.shape)
        else:
            t0 = clock()
            masks = measurer.predict_masks(item.image)
            t1 = clock()
            latency and latency.add('network', t1 - t0)
            result = measurer.measure_masks(masks, item.image, item.path,
                                            item.region, **dicom_hr)
            latency and latency.add('measurement', clock() - t1)
            draw = masks
    except Exception as e:  # one bad input never stops the batch
        return f'error: {type(e).__name__}: {e}', None
    return result, draw


def stale_frame_rows(table, item):
    """Names of every frame row of ``item.source`` (a video or cine) when
    one of them was measured from other content: the file changed, so all
    its old frame rows go, however many frames it had."""
    from mmecho.apis.mmode_inputs import frame_sha256
    stem = osp.splitext(osp.basename(item.source))[0]
    pattern = re.compile(re.escape(stem) + r'_frame(\d{5})')
    rows = [(r, pattern.fullmatch(r['image'])) for r in table.rows]
    rows = [(r, int(m.group(1))) for r, m in rows if m]
    if all(r['sha256'] == frame_sha256(item.source_sha256, i)
           for r, i in rows):
        return set()
    return {r['image'] for r, _ in rows}


class SrWriter:
    """``--sr``: a DICOM SR per measured DICOM input in ``OUT_DIR/sr/``
    and its status in ``OUT_DIR/sr/index.csv``.

    The table is opened also without ``--sr`` when an earlier run wrote
    one, so that an input measured again loses its old SR (and index row)
    instead of keeping one of other values. Patient data go into the SR
    files only: statuses and messages name the row and the problem.
    """

    def __init__(self, out_dir, enabled):
        self.enabled = enabled
        self.dir = osp.join(osp.abspath(out_dir), 'sr')
        path = osp.join(self.dir, 'index.csv')
        self.table = None
        if enabled or osp.isfile(path) or osp.isfile(path + '.partial'):
            os.makedirs(self.dir, exist_ok=True)
            self.table = CsvTable(path, SR_FIELDS)
        self._source = (None, None)  # (path, header): one cine's header
        self.written = 0

    def done(self):
        """image -> sha256 of the rows in the index."""
        if self.table is None:
            return {}
        return {r['image']: r['sha256'] for r in self.table.rows}

    def _path(self, stem):
        path = osp.join(self.dir, stem + '.dcm')
        # OutputNames already guarantees this; never write outside --out
        assert osp.dirname(path) == self.dir, path
        return path

    def forget(self, names, stems):
        """Drop the index rows and SR files of ``names``."""
        if self.table is None:
            return
        for stem in stems:
            path = self._path(stem)
            if osp.isfile(path):
                os.remove(path)
        self.table.remove(set(names))

    def _header(self, path):
        from mmecho.measurement.dicom_sr import read_sr_source
        if self._source[0] != path:
            self._source = (None, None)
            self._source = (path, read_sr_source(path))
        return self._source[1]

    def status(self, item, row, stem):
        """Write the SR of one row if it can be made; its status."""
        from mmecho.apis.mmode_inputs import is_dicom_file
        from mmecho.errors import DatasetFormatError
        from mmecho.measurement.dicom_sr import (build_measurement_sr,
                                                 sr_problem,
                                                 write_measurement_sr)
        if not item.path or not is_dicom_file(item.path):
            return 'not written: not a DICOM input', ''
        problem = sr_problem(row)
        if problem:
            return f'not written: {problem}', ''
        try:
            source = self._header(item.path)
        except DatasetFormatError as e:
            return ('not written: the DICOM source '
                    + (f'has no {e.field}' if e.field else
                       'header cannot be read')), ''
        frame = None
        if item.source is not None:
            m = re.search(r'_frame(\d{5})$', item.name)
            frame = int(m.group(1)) + 1 if m else None
        try:
            sr = build_measurement_sr(source, row, frame_number=frame)
            write_measurement_sr(self._path(stem), sr)
        except Exception as e:  # one bad SR never stops the batch
            # the message may quote the source's values: type only
            print(f'\n{item.name}: no SR ({type(e).__name__})',
                  file=sys.stderr)
            return f'not written: error: {type(e).__name__}', ''
        self.written += 1
        return 'written', f'sr/{stem}.dcm'

    def add(self, item, row, stem):
        """Replace the index row (and SR) of ``item`` by this run's."""
        if self.table is None:
            return
        self.forget([item.name], [stem])
        if self.enabled:
            status, file = self.status(item, row, stem)
            self.table.add([
                dict(
                    image=item.name,
                    status=status,
                    file=file,
                    sha256=item.sha256)
            ])

    def close(self):
        if self.table is not None:
            self.table.close()


def measure_one(item, names, checked_sources, table, cycles, done,
                measurer, args, latency, srs=None, sr_done=None):
    """Measure one input and write its rows (and overlay) at once: nothing
    of it (image, masks, overlay) is kept after it returns."""
    clock = time.perf_counter
    t0 = clock()
    name = item.name
    stem = names.get(name)  # every name, so stems stay stable on resume
    if item.source is not None and item.source not in checked_sources:
        checked_sources.add(item.source)
        stale = stale_frame_rows(table, item)
        if stale:
            cycles.remove(stale)
            table.remove(stale)
            if srs is not None:
                srs.forget(stale, [names.get(n) for n in stale])
            for n in stale:
                done.pop(n, None)
    latency.add('output', clock() - t0)
    if item.sha256 and done.get(name) == item.sha256 and (
            srs is None or not srs.enabled
            or (sr_done or {}).get(name) == item.sha256):
        return
    if item.status is not None:
        row, cyc_rows = status_row(name, item.status, item), []
    else:
        result, draw = measure_item(item, measurer, args.from_annotations,
                                    latency)
        if isinstance(result, str):
            row, cyc_rows = status_row(name, result, item), []
        else:
            row, cyc_rows = result_rows(name, result)
            if not args.no_overlays:
                t0 = clock()
                try:
                    write_overlay(args.out, stem, item.image, result, draw)
                except Exception as e:
                    print(
                        f'\n{name}: no overlay ({type(e).__name__}: {e})',
                        file=sys.stderr)
                latency.add('output', clock() - t0)
    t0 = clock()
    row['sha256'] = item.sha256
    # cycles first: a crash between the two leaves the image unlisted
    # (or listed with its old hash) in measurements.csv, so it is
    # measured again (and its cycles replaced) on resume
    if srs is not None:  # the SR first: it is made again on resume
        srs.add(item, row, stem)
    cycles.remove({name}, save=False)
    cycles.add(cyc_rows)
    table.put(row)
    done[name] = item.sha256
    latency.add('output', clock() - t0)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.utils import ProgressBar

    from mmecho.engine.checkpoint import apply_checkpoint_args
    allow_partial = apply_checkpoint_args(args)

    from mmecho.apis import MModeMeasurer
    from mmecho.apis.mmode_inputs import (OutputNames, count_path_inputs,
                                          iter_annotation_inputs,
                                          iter_path_inputs)
    from mmecho.measurement.mmode_measurement import (AV_INDICATORS, DERIVED,
                                                      LV_INDICATORS)
    os.makedirs(args.out, exist_ok=True)
    fields = [
        'image', 'type', 'status', 'n_cycles', 'cm_per_px', 'calibration',
        'unit'
    ]
    for n in LV_INDICATORS + AV_INDICATORS:
        fields += [n, f'{n}_sd']
    fields += list(DERIVED) + ['heart_rate_bpm', 'sha256']
    # appended after the older columns, so existing positions stay
    fields += list(ADDED_FIELDS)
    table = CsvTable(
        osp.join(args.out, 'measurements.csv'), fields, added=ADDED_FIELDS)
    if table.upgraded:
        print(f'{table.path}: {table.upgraded} rows were written by an older '
              f'mmecho without the columns {", ".join(ADDED_FIELDS)}: they '
              'stay as they are, blank there (delete those rows to measure '
              'them again); the file gets the new header')
    cycles = CsvTable(osp.join(args.out, 'cycles.csv'), CYCLE_FIELDS)
    srs = SrWriter(args.out, args.sr)
    # rows are appended as they come (CsvTable); close() moves the
    # finished tables into place, also when the run stops early
    try:
        # a row counts as done when its input is unchanged (name and content
        # hash) and it did not end in an unexpected error
        done = {
            r['image']: r['sha256']
            for r in table.rows
            if r['sha256'] and not r['status'].startswith('error:')
        }
        if args.from_annotations:
            measurer = MModeMeasurer(
                cm_per_px=args.cm_per_px, read_scale=not args.no_scale_reading)
            items = iter_annotation_inputs(args.from_annotations, args.images)
            with open(args.from_annotations) as f:
                total = len(json.load(f).get('images', []))
        else:
            if args.backend == 'onnxruntime':
                (config, path), ckpt = args.positional, None
                if not osp.isfile(args.onnx):
                    raise SystemExit(f'{args.onnx}: no such ONNX file')
                # only then: keeps the PyTorch call as it was
                backend = dict(backend='onnxruntime', onnx_model=args.onnx)
            else:
                (config, ckpt, path), backend = args.positional, {}
            if not osp.exists(path):
                raise SystemExit(f'{path}: no such image, folder or video')
            measurer = MModeMeasurer(
                config,
                ckpt,
                args.device,
                args.score_thr,
                args.cm_per_px,
                read_scale=not args.no_scale_reading,
                allow_partial_checkpoint=allow_partial,
                **backend)
            items = iter_path_inputs(path)
            total = count_path_inputs(path)
        if done:
            print(f'resuming: {len(done)} images already in '
                  f'{table.path} are skipped if unchanged')
        names = OutputNames()
        checked_sources = set()
        sr_done = srs.done()
        bar = ProgressBar(total, file=sys.stdout) if total > 1 else None
        # one input at a time: nothing of a frame outlives its iteration
        latency = Latency()
        clock = time.perf_counter
        items = iter(items)
        while True:
            t0 = clock()
            item = next(items, None)
            latency.add('decode', clock() - t0)
            if item is None:
                break
            latency.frames += 1
            measure_one(item, names, checked_sources, table, cycles, done,
                        measurer, args, latency, srs, sr_done)
            item = None  # the frame goes before the next one is decoded
            bar and bar.update()
            if args.log_interval > 0 and \
                    latency.frames % args.log_interval == 0:
                print(('\n' if bar else '') + latency.since_mark(), flush=True)
    finally:
        srs.close()
        cycles.close()
        table.close()
    if bar:
        print()
    print(latency.summary(), flush=True)
    if bar:
        print()
    ok = sum(r['status'] == 'ok' for r in table.rows)
    print(f'{len(table.rows)} images in {table.path}, {ok} measured ok')
    if args.sr:
        print(f'{srs.written} DICOM SRs written by this run to {srs.dir} '
              f'(status of each row: {srs.table.path})')
    if args.reference:
        compare(args.out, table.rows, args.reference)


def cli(argv=None):
    """``main`` with a bad input file as a one-line error (exit 1)."""
    from mmecho.datasets.io import DatasetFormatError
    try:
        return main(argv)
    except DatasetFormatError as e:
        raise SystemExit(f'error: {e}') from None


if __name__ == '__main__':
    from mmecho.engine.checkpoint import run_tool
    run_tool(cli)
