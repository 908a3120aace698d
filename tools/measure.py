# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM: segment M-mode captures, measure them, write overlays and a CSV.

    # with a model: an image, a folder of images, or a video
    python tools/measure.py CONFIG CKPT INPUT --out OUT_DIR [--cm-per-px X]
        [--score-thr 0.3] [--device cpu] [--reference TRUTH.csv]
    # ground-truth masks of a COCO file (no model)
    python tools/measure.py --from-annotations ANN.json --images DIR
        --out OUT_DIR [--reference TRUTH.csv]

Writes ``OUT_DIR/measurements.csv`` (one row per image, mean of the cycles,
cm when calibrated, with a ``status`` column), ``OUT_DIR/cycles.csv`` (every
cycle), ``OUT_DIR/overlays/`` (masks, calipers, values) and, with
``--reference``, ``agreement.csv`` (MAE, MSE, bias, limits of agreement per
indicator) and ``bland_altman.png``. Files are written atomically; a run
that is interrupted resumes where it stopped (images already in
measurements.csv are skipped, no row is duplicated).
"""
import argparse
import csv
import io
import os
import os.path as osp
import sys

import cv2
import numpy as np

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
VIDEO_EXT = ('.mp4', '.avi', '.mov', '.mkv')
CYCLE_FIELDS = [
    'image', 'type', 'cycle', 'ed_col', 'es_col', 'IVSd', 'LVIDd', 'LVPWd',
    'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA', 'unit'
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('positional', nargs='*', metavar='CONFIG CKPT INPUT')
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
        '--reference',
        metavar='TRUTH.csv',
        help='CSV with an "image" column and indicators in cm')
    p.add_argument('--no-overlays', action='store_true')
    from mmecho.engine.checkpoint import add_checkpoint_args
    add_checkpoint_args(p)
    args = p.parse_args(argv)
    if args.from_annotations:
        if args.positional:
            p.error('--from-annotations takes no CONFIG CKPT INPUT')
        if not args.images:
            p.error('--from-annotations needs --images DIR')
    elif len(args.positional) != 3:
        p.error('expected CONFIG CKPT INPUT (or --from-annotations ANN.json '
                '--images DIR)')
    return args


def iter_model_inputs(path):
    """(name, BGR image, path or None) for an image, folder or video."""
    if osp.isdir(path):
        files = sorted(
            f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXT))
        for f in files:
            yield f, osp.join(path, f)
    elif path.lower().endswith(VIDEO_EXT):
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise SystemExit(f'{path}: cannot open the video')
        stem = osp.splitext(osp.basename(path))[0]
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield f'{stem}_frame{i:05d}', frame
            i += 1
        cap.release()
    elif osp.isfile(path):
        yield osp.basename(path), path
    else:
        raise SystemExit(f'{path}: no such image, folder or video')


def count_inputs(path):
    if osp.isdir(path):
        return sum(f.lower().endswith(IMAGE_EXT) for f in os.listdir(path))
    if path.lower().endswith(VIDEO_EXT):
        cap = cv2.VideoCapture(path)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        return max(n, 0)
    return 1


class CsvTable:
    """A CSV rewritten atomically after every added row (resumable)."""

    def __init__(self, path, fields):
        self.path, self.fields, self.rows = path, list(fields), []
        if osp.isfile(path):
            with open(path, newline='') as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != self.fields:
                    from mmecho.datasets.io import DatasetFormatError
                    raise DatasetFormatError(
                        path, f'columns {reader.fieldnames} differ from '
                        f'{self.fields}: use another --out or delete it',
                        field='header')
                self.rows = list(reader)

    def names(self):
        return {r['image'] for r in self.rows}

    def add(self, rows):
        self.rows.extend(rows)
        buf = io.StringIO()
        w = csv.DictWriter(buf, self.fields)
        w.writeheader()
        w.writerows(self.rows)
        from mmecho.utils import atomic_write_text
        atomic_write_text(self.path, buf.getvalue())


def result_rows(name, result):
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
            unit=unit)
        for key in CYCLE_FIELDS[5:-1]:
            v = c.values_px.get(key)
            r[key] = '' if v is None else f'{v * scale:.4f}'
        cycles.append(r)
    return row, cycles


def write_overlay(out_dir, name, image, result, masks):
    from mmecho.utils import atomic_write
    from mmecho.visualization import draw_mmode_measurement
    vis = draw_mmode_measurement(image, result, masks)
    stem = osp.splitext(name)[0]
    ok, buf = cv2.imencode('.png', vis)
    with atomic_write(osp.join(out_dir, 'overlays', stem + '.png')) as f:
        f.write(buf.tobytes())


def annotation_inputs(ann_file, image_dir):
    """(name, image path, {class: band}) from COCO."""
    from mmecho.measurement import iter_coco_bands
    for img, bands in iter_coco_bands(ann_file):
        yield img['file_name'], osp.join(image_dir, img['file_name']), bands


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


def main(argv=None):
    args = parse_args(argv)
    from mmengine.utils import ProgressBar

    from mmecho.engine.checkpoint import apply_checkpoint_args
    allow_partial = apply_checkpoint_args(args)

    from mmecho.apis import MModeMeasurer
    from mmecho.measurement.mmode_measurement import (AV_INDICATORS, DERIVED,
                                                      LV_INDICATORS)
    os.makedirs(args.out, exist_ok=True)
    fields = [
        'image', 'type', 'status', 'n_cycles', 'cm_per_px', 'calibration',
        'unit'
    ]
    for n in LV_INDICATORS + AV_INDICATORS:
        fields += [n, f'{n}_sd']
    fields += list(DERIVED)
    table = CsvTable(osp.join(args.out, 'measurements.csv'), fields)
    cycles = CsvTable(osp.join(args.out, 'cycles.csv'), CYCLE_FIELDS)
    done = table.names()
    if args.from_annotations:
        measurer = MModeMeasurer(
            cm_per_px=args.cm_per_px, read_scale=not args.no_scale_reading)
        items = list(annotation_inputs(args.from_annotations, args.images))
        total = len(items)
    else:
        config, ckpt, path = args.positional
        measurer = MModeMeasurer(
            config,
            ckpt,
            args.device,
            args.score_thr,
            args.cm_per_px,
            read_scale=not args.no_scale_reading,
            allow_partial_checkpoint=allow_partial)
        items = iter_model_inputs(path)
        total = count_inputs(path)
    if done:
        print(f'resuming: {len(done)} images already in '
              f'{table.path} are skipped')
    bar = ProgressBar(total, file=sys.stdout) if total > 1 else None
    for item in items:
        if args.from_annotations:
            name, img_path, masks = item
            if name in done:
                bar and bar.update()
                continue
            image = cv2.imread(img_path)
            if image is None:
                from mmecho.datasets.io import DatasetFormatError
                raise DatasetFormatError(img_path, 'cannot read the image')
            result = measurer.measure_masks(masks, image, img_path)
            draw = edges_to_masks(masks, image.shape)
        else:
            name, src = item
            if name in done:
                bar and bar.update()
                continue
            img_path = src if isinstance(src, str) else None
            image = cv2.imread(src) if img_path else src
            if image is None:
                raise SystemExit(f'{src}: cannot read the image')
            masks = measurer.predict_masks(image)
            result = measurer.measure_masks(masks, image, img_path)
            draw = masks
        row, cyc_rows = result_rows(name, result)
        if not args.no_overlays:
            write_overlay(args.out, name, image, result, draw)
        # cycles first: a crash between the two leaves the image unlisted
        # in measurements.csv, so it is measured again (and its cycles
        # replaced) on resume
        cycles.rows = [r for r in cycles.rows if r['image'] != name]
        cycles.add(cyc_rows)
        table.add([row])
        bar and bar.update()
    if bar:
        print()
    ok = sum(r['status'] == 'ok' for r in table.rows)
    print(f'{len(table.rows)} images in {table.path}, {ok} measured ok')
    if args.reference:
        compare(args.out, table.rows, args.reference)


if __name__ == '__main__':
    from mmecho.engine.checkpoint import run_tool
    run_tool(main)
