"""M&Ms: vendor splits, slices of the 4D cine, ED -> ES propagation and the
per-vendor benchmark (paper 003)."""
import csv
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmecho.datasets import (MnMsDataset, MnMsFramePairDataset, MnMsReader,
                             frames_ed_to_es, to_uint8)
from mmecho.datasets.io import load_medical_image
from mmecho.evaluation import MnMsVendorMetric
from mmecho.evaluation.functional import dice
from mmecho.registration.pseudo_labels import (MnMsAdapter, Propagation,
                                               generate_pseudo_labels)
from ..conftest import ROOT

# end-to-end: trains models; `make test-fast` leaves these out
pytestmark = pytest.mark.slow

INFO = 'mnms_dataset_info.csv'


def test_vendor_splits(mnms_root):
    reader = MnMsReader(mnms_root, INFO)
    train = reader.subjects(('Training/Labeled', ))
    test = reader.subjects(('Testing', ))
    assert {reader.info[c]['Vendor'] for c in train} == {'A', 'B'}
    assert {reader.info[c]['Vendor'] for c in test} == {'A', 'B', 'C', 'D'}
    only_c = reader.subjects(('Testing', ), vendors=('C', ))
    assert only_c and all(reader.info[c]['Vendor'] == 'C' for c in only_c)


def test_frames_between_ed_and_es_wrap_around():
    assert frames_ed_to_es(0, 4, 12) == [0, 1, 2, 3, 4]
    assert frames_ed_to_es(8, 2, 10) == [8, 9, 0, 1, 2]


def test_pair_dataset_slices_the_4d_cine(mnms_root):
    reader = MnMsReader(mnms_root, INFO)
    ds = MnMsFramePairDataset(
        data_root=mnms_root,
        info_file=INFO,
        splits=('Training/Labeled', ),
        size=(48, 48),
        pairs='ed_es')
    seqs = ds.sequence_list()
    assert len(ds) == 2 * len(seqs)
    s = seqs[0]
    d = reader.load(s['code'])
    frames, labels, labelled = ds.load_sequence(s)
    # the frames of one slice from ED to ES, in order, as in the 4D volume
    expect = to_uint8(
        d['image'])[frames_ed_to_es(d['ed'], d['es'], d['image'].shape[0]),
                    s['slice']]
    assert np.array_equal(frames, expect)
    assert np.array_equal(labels[0], d['label'][d['ed'], s['slice']])
    assert np.array_equal(labels[-1], d['label'][d['es'], s['slice']])
    assert labelled.tolist() == [True] + [False] * (len(frames) - 2) + [True]
    item = ds[0]
    assert item['inputs'].shape == (2, 48, 48)
    assert item['data_samples']['has_labels']  # ES <- ED pair


def test_propagation_writes_4d_labels_and_reports_es_dice(mnms_root, tmp_path):
    reader = MnMsReader(mnms_root, INFO)

    def identity(fixed, moving):
        return torch.zeros(fixed.shape[0], 2, *fixed.shape[2:])

    res = generate_pseudo_labels(
        MnMsAdapter(mnms_root, INFO, splits=('Training/Labeled', )),
        identity,
        str(tmp_path),
        propagation=Propagation(mode='forward'),
        progress=False)
    codes = reader.subjects(('Training/Labeled', ))
    assert res['written'] == len(codes)
    # identity fields carry ED unchanged: the reported ES Dice is exactly
    # the overlap of the ED and ES references
    expect = {c: [] for c in (1, 2, 3)}
    for code in codes:
        d = reader.load(code)
        out, _ = load_medical_image(
            osp.join(tmp_path, 'Training', 'Labeled', code,
                     f'{code}_sa_pseudo.nii.gz'))
        assert out.shape == d['image'].shape
        between = frames_ed_to_es(d['ed'], d['es'], out.shape[0])
        assert np.array_equal(out[d['ed']], d['label'][d['ed']])
        assert np.array_equal(out[d['es']], d['label'][d['es']])
        assert np.array_equal(out[between[1]], d['label'][d['ed']])
        outside = [t for t in range(out.shape[0]) if t not in between]
        assert (out[outside] == 255).all()
        for z in range(d['image'].shape[1]):
            ed, es = d['label'][d['ed'], z], d['label'][d['es'], z]
            if ed.any():
                for c in expect:
                    if (es == c).any():
                        expect[c].append(dice(ed == c, es == c))
    for c in expect:
        assert res['es_dice'][c] == np.mean(expect[c])
        assert res['es_dice'][c] < 0.95  # the heart contracts: a real test
    # the augmented training set adds the frames between ED and ES
    base = MnMsDataset(
        data_root=mnms_root, info_file=INFO, splits=('Training/Labeled', ))
    aug = MnMsDataset(
        data_root=mnms_root,
        info_file=INFO,
        splits=('Training/Labeled', ),
        pseudo_labels=True,
        pseudo_label_root=str(tmp_path))
    extra = sum(
        (len(frames_ed_to_es(reader.info[c]['ED'], reader.info[c]['ES'], 12)) -
         2) * 8 for c in codes)
    assert len(aug) == len(base) + extra


def test_vendor_metric_groups_volumes():
    metric = MnMsVendorMetric(regions=dict(LV=1))
    gt = np.zeros((8, 8), np.int64)
    gt[2:6, 2:6] = 1
    half = gt.copy()
    half[2:4] = 0
    samples = []
    for subject, vendor, pred in (('s1', 'A', gt), ('s2', 'C', half)):
        for z in range(2):  # two slices make one volume
            samples.append(
                dict(
                    subject=subject,
                    vendor=vendor,
                    instant='ED',
                    pred_sem_seg=dict(data=torch.from_numpy(pred[None])),
                    gt_sem_seg=dict(data=torch.from_numpy(gt[None]))))
    metric.process(None, samples)
    out = metric.compute_metrics(metric.results)
    assert out['A'] == 1.0 and abs(out['C'] - 2 * 8 / (8 + 16)) < 1e-9
    assert np.isnan(out['B']) and out['n_volumes'] == 2
    assert abs(out['Total'] - (1.0 + 2 / 3) / 2) < 1e-9


def test_benchmark_runs_both_arms(mnms_root, tmp_path):
    work = str(tmp_path / 'bench')
    cmd = [
        sys.executable, 'tools/mnms_benchmark.py', '--data-root', mnms_root,
        '--work-dir', work, '--reg-max-iters', '2', '--max-epochs', '1'
    ]
    out = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = list(csv.DictReader(open(osp.join(work, 'table.csv'))))
    assert [r['Method'] for r in rows] == ['baseline', 'proposed']
    for r in rows:
        for k in ('LV', 'MYO', 'RV', 'A', 'B', 'C', 'D', 'Total'):
            assert 0.0 <= float(r[k]) <= 1.0
    prop = json.load(open(osp.join(work, 'propagation.json')))
    assert set(prop['es_dice']) == {'LV', 'MYO', 'RV'}
    assert 'Propagated labels at ES' in out.stdout
    # a second run resumes: every step is skipped
    again = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0
    assert again.stdout.count('done before, skipped') == 3
