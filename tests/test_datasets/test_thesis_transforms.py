"""Transforms reproducing the albumentations training pipeline and the
pre-processing of paper 002 (thesis), checked against closed forms."""
import cv2
import numpy as np
import pytest

from mmecho.datasets.transforms import (BinarizeLabel, MedianDenoise,
                                        RandomBrightnessContrast,
                                        ResetOriginalShape, RGBShift,
                                        ShiftScaleRotate, ThresholdROICrop)


def fixed_ssr(shift=0., scale=0., rotate=0., **kwargs):
    """ShiftScaleRotate whose random draws can only give these values."""
    kwargs.setdefault('border_mode', 'constant')
    return ShiftScaleRotate(
        shift_limit=(shift, shift),
        scale_limit=(scale, scale),
        rotate_limit=(rotate, rotate),
        prob=1,
        **kwargs)


# ---------------------------------------------------------------- affine
def test_shift_moves_a_pixel_by_a_fraction_of_the_size():
    h, w = 20, 40
    img = np.zeros((h, w, 3), np.uint8)
    img[3, 7] = (10, 20, 30)
    seg = np.zeros((h, w), np.uint8)
    seg[3, 7] = 2
    r = fixed_ssr(shift=0.25)(dict(img=img, gt_seg_map=seg))
    # dx = 0.25 * 40 = 10 columns right, dy = 0.25 * 20 = 5 rows down
    expected = np.zeros_like(img)
    expected[8, 17] = (10, 20, 30)
    np.testing.assert_array_equal(r['img'], expected)
    assert np.argwhere(r['gt_seg_map']).tolist() == [[8, 17]]
    assert r['gt_seg_map'][8, 17] == 2
    assert r['img'].dtype == np.uint8 and r['gt_seg_map'].dtype == np.uint8


def test_constant_border_uses_img_fill_and_seg_fill():
    h, w = 20, 40
    r = fixed_ssr(
        shift=0.25, img_fill=(1, 2, 3), seg_fill=255)(
            dict(
                img=np.full((h, w, 3), 100, np.uint8),
                gt_seg_map=np.ones((h, w), np.uint8)))
    outside = np.zeros((h, w), bool)
    outside[:5] = True  # came from above the image
    outside[:, :10] = True  # came from the left
    assert (r['img'][outside] == (1, 2, 3)).all()
    assert (r['img'][~outside] == 100).all()
    assert (r['gt_seg_map'][outside] == 255).all()
    assert (r['gt_seg_map'][~outside] == 1).all()


def test_rotation_by_90_degrees_is_counter_clockwise_rot90():
    a = np.arange(81, dtype=np.uint8).reshape(9, 9)
    img = np.stack([a, a + 100, a + 150], -1)
    r = fixed_ssr(rotate=90)(dict(img=img, gt_seg_map=a.copy()))
    # interior pixels (the pixel grid maps onto itself)
    inner = (slice(1, -1), slice(1, -1))
    np.testing.assert_array_equal(r['img'][inner], np.rot90(img)[inner])
    np.testing.assert_array_equal(r['gt_seg_map'][inner],
                                  np.rot90(a)[inner])
    # even-sized image: the centre is (w / 2 - 0.5, h / 2 - 0.5)
    b = np.arange(64, dtype=np.uint8).reshape(8, 8)
    r = fixed_ssr(rotate=-90)(dict(img=b[..., None].copy()))
    np.testing.assert_array_equal(r['img'][1:-1, 1:-1, 0],
                                  np.rot90(b, -1)[1:-1, 1:-1])
    assert r['img'].shape == (8, 8, 1)


def test_scale_1_doubles_the_distance_from_the_centre():
    n = 33  # centre pixel 16
    img = np.zeros((n, n), np.float32)
    img[16 + 3, 16 - 5] = 100.
    seg = np.zeros((n, n), np.uint8)
    seg[16 + 3, 16 - 5] = 1
    # scale = 1 + U(1, 1) = 2
    r = fixed_ssr(scale=1.0)(dict(img=img, gt_seg_map=seg))
    out = r['img']
    assert out.shape == (n, n) and out.dtype == np.float32
    assert np.unravel_index(out.argmax(), out.shape) == (16 + 6, 16 - 10)
    assert out[22, 6] == pytest.approx(100.)
    # bilinear: the half-way neighbours get half of the value
    assert out[22, 7] == pytest.approx(50., abs=1)
    assert out[21, 6] == pytest.approx(50., abs=1)
    # nearest neighbour: the pixel becomes a 2x2 block around (22, 6)
    ys, xs = np.nonzero(r['gt_seg_map'])
    assert set(r['gt_seg_map'][ys, xs]) == {1}
    assert len(ys) == 4 and 21 <= ys.min() and ys.max() <= 23
    assert 5 <= xs.min() and xs.max() <= 7 and (22, 6) in zip(ys, xs)


@pytest.mark.parametrize('seed', range(4))
def test_random_affine_keeps_label_set_shape_and_seg_fields(seed):
    rng = np.random.RandomState(100 + seed)
    seg = rng.choice([0, 1, 2, 3, 255], size=(48, 64)).astype(np.uint8)
    img = rng.randint(0, 256, (48, 64, 3)).astype(np.uint8)
    results = dict(
        img=img,
        gt_seg_map=seg,
        gt_aux=seg.copy(),
        seg_fields=['gt_seg_map', 'gt_aux'])
    np.random.seed(seed)
    r = ShiftScaleRotate(
        shift_limit=0.2, scale_limit=(-0.5, 1.0), rotate_limit=45,
        prob=1)(results)
    assert r['img'].shape == (48, 64, 3) and r['img'].dtype == np.uint8
    assert set(np.unique(r['gt_seg_map'])) <= {0, 1, 2, 3, 255}
    np.testing.assert_array_equal(r['gt_seg_map'], r['gt_aux'])
    assert not np.array_equal(r['gt_seg_map'], seg)


def test_affine_prob_0_is_identity_and_seeding_repeats():
    img = np.random.RandomState(0).randint(0, 256, (16, 24, 3)).astype(
        np.uint8)
    seg = (img[..., 0] > 128).astype(np.uint8)
    t = ShiftScaleRotate(prob=0)
    r = t(dict(img=img.copy(), gt_seg_map=seg.copy()))
    np.testing.assert_array_equal(r['img'], img)
    np.testing.assert_array_equal(r['gt_seg_map'], seg)
    t = ShiftScaleRotate(prob=1)
    outs = []
    for _ in range(2):
        np.random.seed(3)
        outs.append(t(dict(img=img.copy()))['img'])
    np.testing.assert_array_equal(*outs)


def test_affine_limits_and_arguments():
    t = ShiftScaleRotate()
    assert t.shift_limit == (-0.0625, 0.0625)
    assert t.scale_limit == (-0.1, 0.1) and t.rotate_limit == (-45, 45)
    assert t.prob == 0.5 and t.border_mode == 'reflect_101'
    assert 'ShiftScaleRotate(shift_limit=(-0.0625, 0.0625)' in repr(t)
    assert ShiftScaleRotate(scale_limit=(-0.5, 1.0)).scale_limit == (-0.5,
                                                                       1.0)
    with pytest.raises(ValueError, match='border_mode'):
        ShiftScaleRotate(border_mode='mirror')
    with pytest.raises(ValueError, match='scale_limit'):
        ShiftScaleRotate(scale_limit=(-1.0, 0.0))
    with pytest.raises(ValueError, match='rotate_limit'):
        ShiftScaleRotate(rotate_limit=(10, -10))


def test_affine_many_channels_keep_their_values():
    img = np.tile(np.arange(6, dtype=np.float32) * 10, (10, 10, 1))
    r = fixed_ssr(rotate=30, border_mode='reflect_101')(dict(img=img))
    assert r['img'].shape == (10, 10, 6)
    np.testing.assert_allclose(r['img'], img, atol=1e-4)


# ------------------------------------------------------------- photometric
def test_rgb_shift_adds_each_channel_and_clips():
    img = np.full((4, 5, 3), 100, np.uint8)
    img[0, 0] = 240
    seg = np.ones((4, 5), np.uint8)
    t = RGBShift(
        r_shift_limit=(25, 25),
        g_shift_limit=(-30, -30),
        b_shift_limit=(200, 200),
        prob=1)
    r = t(dict(img=img, gt_seg_map=seg))
    assert (r['img'][1:, 1:] == (125, 70, 255)).all()
    np.testing.assert_array_equal(r['img'][0, 0], (255, 210, 255))
    assert r['img'].dtype == np.uint8
    np.testing.assert_array_equal(r['gt_seg_map'], 1)


def test_rgb_shift_fractional_shift_truncates_uint8_not_float():
    img = np.full((2, 2, 3), 100, np.uint8)
    t = RGBShift((10.7, 10.7), (-10.7, -10.7), (0, 0), prob=1)
    np.testing.assert_array_equal(t(dict(img=img))['img'][0, 0],
                                  (110, 89, 100))
    r = t(dict(img=img.astype(np.float32)))
    np.testing.assert_allclose(r['img'][0, 0], (110.7, 89.3, 100.),
                               rtol=1e-6)
    assert r['img'].dtype == np.float32


def test_rgb_shift_draws_within_limits_prob_and_errors():
    img = np.full((2, 2, 3), 128, np.uint8)
    np.random.seed(0)
    t = RGBShift(prob=1)
    for _ in range(20):
        d = t(dict(img=img.copy()))['img'][0, 0].astype(int) - 128
        assert (np.abs(d) <= 20).all()
    np.testing.assert_array_equal(
        RGBShift(prob=0)(dict(img=img.copy()))['img'], img)
    with pytest.raises(ValueError, match='3-channel'):
        RGBShift(prob=1)(dict(img=np.zeros((2, 2), np.uint8)))
    assert repr(RGBShift()) == ('RGBShift(r_shift_limit=(-20.0, 20.0), '
                                'g_shift_limit=(-20.0, 20.0), '
                                'b_shift_limit=(-20.0, 20.0), prob=0.5)')


def ramp():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    return np.stack([x] * 3, -1)


def test_contrast_is_a_gain_truncated_and_clipped():
    x = ramp()
    t = RandomBrightnessContrast(
        brightness_limit=(0, 0), contrast_limit=(0.5, 0.5), prob=1)
    expected = np.clip(np.floor(1.5 * x.astype(float)), 0, 255)
    np.testing.assert_array_equal(t(dict(img=x.copy()))['img'], expected)
    t = RandomBrightnessContrast(
        brightness_limit=(0, 0), contrast_limit=(0.3, 0.3), prob=1)
    out = t(dict(img=x.copy()))['img'].astype(float)
    exact = 1.3 * x.astype(float)
    # equal to floor(1.3 x) clipped, except float32 rounding of products
    # that are (nearly) integers
    diff = out - np.clip(np.floor(exact), 0, 255)
    assert np.abs(diff).max() <= 1
    far = np.abs(exact - np.rint(exact)) > 1e-3
    assert (diff[far] == 0).all()
    assert out.max() == 255 and (out[x >= 197] == 255).all()


def test_brightness_adds_a_fraction_of_255():
    x = ramp()
    t = RandomBrightnessContrast(
        brightness_limit=(0.3, 0.3), contrast_limit=(0, 0), prob=1)
    out = t(dict(img=x.copy()))['img'].astype(int)
    # 0.3 * 255 = 76.5, truncated: +76, clipped at 255
    np.testing.assert_array_equal(out, np.minimum(x.astype(int) + 76, 255))
    r = t(dict(img=x.astype(np.float32)))
    np.testing.assert_allclose(r['img'],
                               np.minimum(x.astype(np.float32) + 76.5, 255))


def test_brightness_by_mean_and_label_untouched():
    img = np.array([[[50] * 3, [150] * 3]], np.uint8)  # mean 100
    seg = np.array([[0, 3]], np.uint8)
    t = RandomBrightnessContrast(
        brightness_limit=(0.5, 0.5),
        contrast_limit=(0, 0),
        brightness_by_max=False,
        prob=1)
    r = t(dict(img=img, gt_seg_map=seg))
    np.testing.assert_array_equal(r['img'][0, :, 0], (100, 200))
    np.testing.assert_array_equal(r['gt_seg_map'], seg)
    np.testing.assert_array_equal(
        RandomBrightnessContrast(prob=0)(dict(img=img.copy()))['img'], img)
    assert 'brightness_by_max=True' in repr(RandomBrightnessContrast())


# ------------------------------------------------------------ deterministic
def test_binarize_label_keeps_ignore_and_seg_fields():
    seg = np.array([[0, 1, 2], [3, 255, 1]], np.uint8)
    r = BinarizeLabel()(
        dict(gt_seg_map=seg, gt_aux=seg.copy(), seg_fields=['gt_aux']))
    expected = np.array([[0, 1, 0], [0, 255, 1]], np.uint8)
    np.testing.assert_array_equal(r['gt_seg_map'], expected)
    np.testing.assert_array_equal(r['gt_aux'], expected)
    assert r['gt_seg_map'].dtype == np.uint8
    r = BinarizeLabel(foreground=(1, 2), ignore_index=None)(
        dict(gt_seg_map=seg.copy()))
    np.testing.assert_array_equal(r['gt_seg_map'],
                                  [[0, 1, 1], [0, 0, 1]])
    with pytest.raises(ValueError, match='patient0001_2CH_ED_gt'):
        BinarizeLabel()(dict(seg_map_path='patient0001_2CH_ED_gt.nii.gz'))
    with pytest.raises(ValueError, match='ignore_index'):
        BinarizeLabel(foreground=(1, 255))
    assert repr(BinarizeLabel()) == ('BinarizeLabel(foreground=(1,), '
                                     'ignore_index=255)')


def test_reset_original_shape():
    r = ResetOriginalShape()(
        dict(img=np.zeros((256, 256, 3), np.uint8), ori_shape=(843, 630)))
    assert r['ori_shape'] == (256, 256)
    assert repr(ResetOriginalShape()) == 'ResetOriginalShape()'


def test_median_removes_salt_and_pepper_and_keeps_edges():
    img = np.full((20, 20, 3), 100, np.uint8)
    img[:, 10:] = 200  # straight vertical edge
    clean = img.copy()
    img[5, 3] = 255  # salt
    img[12, 15] = 0  # pepper
    img[0, 0] = 255  # salt on the border
    r = MedianDenoise()(dict(img=img, gt_seg_map=np.ones((20, 20),
                                                         np.uint8)))
    np.testing.assert_array_equal(r['img'], clean)
    np.testing.assert_array_equal(r['gt_seg_map'], 1)
    # float32 with a kernel cv2 does not support for floats, and 2D images
    f = clean[..., 0].astype(np.float32)
    noisy = f.copy()
    noisy[8, 8] = 255.
    np.testing.assert_array_equal(
        MedianDenoise(kernel_size=7)(dict(img=noisy))['img'], f)
    np.testing.assert_array_equal(
        MedianDenoise(kernel_size=3)(dict(img=noisy.astype(np.uint8)))['img'],
        f.astype(np.uint8))


@pytest.mark.parametrize('bad', [4, 1, 0, -3, 2.0, '5'])
def test_median_rejects_bad_kernel_size(bad):
    with pytest.raises(ValueError, match='odd integer >= 3'):
        MedianDenoise(kernel_size=bad)


def echo_like(h=200, w=180):
    """A bright ellipse (the target), a smaller bright square, noise blobs
    and a hole; label 1 inside the ellipse, 2 in the square."""
    ellipse = np.zeros((h, w), np.uint8)
    cv2.ellipse(ellipse, (90, 100), (50, 35), 0, 0, 360, 1, -1)
    img = np.zeros((h, w), np.uint8)
    img[ellipse > 0] = 180
    img[95:100, 85:90] = 0  # hole, filled by the closing
    img[170:190, 150:170] = 200  # 20x20 region: survives but is smaller
    for y, x in ((5, 5), (10, 160), (180, 20), (60, 170)):
        img[y:y + 4, x:x + 4] = 255  # small blobs, removed by the opening
    rng = np.random.RandomState(0)
    ys, xs = rng.randint(0, h, 40), rng.randint(0, w, 40)
    img[ys, xs] = 255  # salt noise
    seg = ellipse.copy()
    seg[170:190, 150:170] = 2
    ys, xs = np.nonzero(ellipse)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return np.stack([img] * 3, -1), seg, box


def test_threshold_roi_crop_crops_to_the_largest_region_with_margin():
    img, seg, (x0, y0, x1, y1) = echo_like()
    assert (x0, y0, x1, y1) == (40, 65, 141, 136)
    results = dict(
        img=img,
        gt_seg_map=seg,
        gt_aux=seg.copy(),
        seg_fields=['gt_seg_map', 'gt_aux'],
        img_shape=img.shape[:2])
    r = ThresholdROICrop()(results)
    # margin 0.05 of the 101 x 71 box: 5 columns, 4 rows per side
    ex0, ey0, ex1, ey1 = x0 - 5, y0 - 4, x1 + 5, y1 + 4
    box = r['roi_crop']
    assert box == (ex0, ey0, ex1, ey1) == (35, 61, 146, 140)
    bx0, by0, bx1, by1 = box
    np.testing.assert_array_equal(r['img'], img[by0:by1, bx0:bx1])
    np.testing.assert_array_equal(r['gt_seg_map'], seg[by0:by1, bx0:bx1])
    np.testing.assert_array_equal(r['gt_aux'], r['gt_seg_map'])
    assert r['img_shape'] == r['img'].shape[:2] == r['gt_seg_map'].shape
    # the whole ellipse is inside, the smaller square outside
    assert (r['gt_seg_map'] == 1).sum() == (seg == 1).sum()
    assert (r['gt_seg_map'] == 2).sum() == 0


def test_threshold_roi_crop_fixed_threshold_and_margin_clipping():
    img, seg, (x0, y0, x1, y1) = echo_like()
    # the ellipse is 180: above 150 it is found, above 190 only the
    # 200-valued square (400 px, 1.1 % of the image) and blobs remain
    r = ThresholdROICrop(threshold=150, margin=0)(dict(img=img.copy()))
    assert r['roi_crop'] == (x0, y0, x1, y1)
    # (the opening rounds its corners: about 360 px are left)
    r = ThresholdROICrop(threshold=190, margin=0, min_area_fraction=0.005)(
        dict(img=img.copy()))
    assert r['roi_crop'] == (150, 170, 170, 190)
    r = ThresholdROICrop(threshold=190, margin=0, min_area_fraction=0.05)(
        dict(img=img.copy()))
    assert r['roi_crop'] is None
    # a margin larger than the distance to the border is clipped
    r = ThresholdROICrop(
        threshold=190, margin=1.0, min_area_fraction=0.005)(
            dict(img=img[..., 0]))
    assert r['roi_crop'] == (130, 150, 180, 200)
    assert r['img'].shape == (50, 50)


@pytest.mark.parametrize('blank', [
    np.zeros((64, 48, 3), np.uint8),
    np.full((64, 48), 255, np.uint8),
    np.zeros((64, 48, 3), np.float32)
])
def test_threshold_roi_crop_leaves_blank_images_unchanged(blank):
    seg = np.ones(blank.shape[:2], np.uint8)
    r = ThresholdROICrop()(
        dict(img=blank.copy(), gt_seg_map=seg, img_shape=(64, 48)))
    assert r['roi_crop'] is None
    np.testing.assert_array_equal(r['img'], blank)
    assert r['img_shape'] == (64, 48) and r['gt_seg_map'].shape == (64, 48)


def test_threshold_roi_crop_arguments():
    with pytest.raises(ValueError, match='morph_kernel'):
        ThresholdROICrop(morph_kernel=0)
    with pytest.raises(ValueError, match='threshold'):
        ThresholdROICrop(threshold=300)
    with pytest.raises(ValueError, match='margin'):
        ThresholdROICrop(margin=-0.1)
    assert repr(ThresholdROICrop()) == (
        'ThresholdROICrop(threshold=None, morph_kernel=15, margin=0.05, '
        'min_area_fraction=0.01)')


# --------------------------------------------------------------- pipeline
def test_thesis_pipeline_from_config_dicts():
    from mmengine.dataset import Compose

    from mmecho.registry import TRANSFORMS
    from mmecho.utils import register_all_modules
    register_all_modules()
    img, seg, _ = echo_like()
    seg[0, 0] = 255
    seg[100, 60] = 3
    pipeline = Compose([
        dict(type='ThresholdROICrop'),
        dict(type='mmecho.MedianDenoise', kernel_size=5),
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='ResetOriginalShape'),
        dict(type='ShiftScaleRotate', prob=1.0, scale_limit=(-0.5, 1.0)),
        dict(type='RGBShift', prob=1.0),
        dict(type='RandomBrightnessContrast', prob=1.0),
        dict(type='BinarizeLabel', foreground=[1]),
        dict(type='mmseg.PackSegInputs'),
    ])
    assert [type(t).__name__ for t in pipeline.transforms][:2] == [
        'ThresholdROICrop', 'MedianDenoise'
    ]
    np.random.seed(0)
    out = pipeline(
        dict(
            img=img,
            gt_seg_map=seg,
            seg_fields=['gt_seg_map'],
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2]))
    assert tuple(out['inputs'].shape) == (3, 64, 64)
    meta = out['data_samples'].metainfo
    assert tuple(meta['ori_shape']) == (64, 64)
    labels = out['data_samples'].gt_sem_seg.data
    assert tuple(labels.shape) == (1, 64, 64)
    assert set(labels.unique().tolist()) <= {0, 1, 255}
    assert (labels == 1).any()
    t = TRANSFORMS.build(dict(type='ShiftScaleRotate', rotate_limit=10))
    assert isinstance(t, ShiftScaleRotate) and t.rotate_limit == (-10, 10)
