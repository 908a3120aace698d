import gzip
import os

import numpy as np
import pytest

from mmecho.datasets.camus.info import read_camus_info
from mmecho.datasets.io import (DatasetFormatError, load_medical_image,
                                read_image_shape, save_medical_image)

sitk = pytest.importorskip('SimpleITK')


@pytest.mark.parametrize('ext', ['.nii.gz', '.nii', '.mhd'])
def test_roundtrip_and_agreement_with_simpleitk(tmp_path, ext):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (5, 7, 9)).astype(np.uint8)
    path = str(tmp_path / f'seq{ext}')
    save_medical_image(path, arr, (1.0, 0.3, 0.15))
    back, spacing = load_medical_image(path)
    assert np.array_equal(back, arr)
    assert np.allclose(spacing, (1.0, 0.3, 0.15))
    assert read_image_shape(path) == arr.shape
    # an independent reader sees the same array and (x, y, t) spacing
    img = sitk.ReadImage(path)
    assert np.array_equal(sitk.GetArrayFromImage(img), arr)
    assert np.allclose(img.GetSpacing(), (0.15, 0.3, 1.0))


def test_reads_files_written_by_simpleitk(tmp_path):
    arr = (np.arange(6 * 8).reshape(6, 8) % 251).astype(np.uint8)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.3, 0.15))
    for name, compress in (('a.mhd', True), ('b.mhd', False), ('c.nii.gz',
                                                               True)):
        sitk.WriteImage(img, str(tmp_path / name), compress)
        back, spacing = load_medical_image(str(tmp_path / name))
        assert np.array_equal(back, arr)
        assert np.allclose(spacing, (0.15, 0.3))


def test_corrupt_and_missing_files(tmp_path):
    with pytest.raises(DatasetFormatError, match='file not found'):
        load_medical_image(str(tmp_path / 'missing.nii.gz'))
    bad = tmp_path / 'bad.nii.gz'
    bad.write_bytes(gzip.compress(b'not a nifti at all' * 10))
    with pytest.raises(DatasetFormatError, match='bad.nii.gz.*NIfTI'):
        load_medical_image(str(bad))
    save_medical_image(
        str(tmp_path / 'x.mhd'), np.zeros((4, 4), np.uint8), (1, 1))
    os.truncate(tmp_path / 'x.raw', 5)
    with pytest.raises(DatasetFormatError, match='expected 16 bytes'):
        load_medical_image(str(tmp_path / 'x.mhd'))


def test_camus_info(tmp_path):
    p = tmp_path / 'Info_2CH.cfg'
    p.write_text('ED: 1\nES: 18\nNbFrame: 18\nSex: F\nAge: 60\n'
                 'ImageQuality: Good\nEF: 55.3\n')
    info = read_camus_info(str(p))
    assert info['ed_index'] == 0 and info['es_index'] == 17
    assert info['EF'] == pytest.approx(55.3)
    p.write_text('ED: 1\nES: x\n')
    with pytest.raises(DatasetFormatError, match="field 'ES'"):
        read_camus_info(str(p))
    p.write_text('ED: 1\n')
    with pytest.raises(DatasetFormatError, match="Info_2CH.cfg: field 'ES'"):
        read_camus_info(str(p))
