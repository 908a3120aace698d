import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from mmecho.datasets.transforms import RandomCropKeepFraction, RandomPlacePad


def sample(h=100, w=200, boxes=((10, 20, 60, 40), (120, 50, 190, 90))):
    masks = np.zeros((len(boxes), h, w), np.uint8)
    for m, (x1, y1, x2, y2) in zip(masks, boxes):
        m[y1:y2, x1:x2] = 1
    return dict(
        img=np.full((h, w, 3), 7, np.uint8),
        img_shape=(h, w),
        gt_bboxes=HorizontalBoxes(np.array(boxes, np.float32)),
        gt_bboxes_labels=np.arange(len(boxes)),
        gt_ignore_flags=np.zeros(len(boxes), bool),
        gt_masks=BitmapMasks(masks, h, w))


def check_consistent(r):
    boxes = r['gt_bboxes'].tensor.numpy()
    from_masks = r['gt_masks'].get_bboxes(HorizontalBoxes).tensor.numpy()
    np.testing.assert_allclose(boxes, from_masks, atol=1)
    assert r['img'].shape[:2] == tuple(r['img_shape'])
    assert r['gt_masks'].masks.shape[1:] == tuple(r['img_shape'])
    assert len(r['gt_bboxes_labels']) == len(boxes) == len(r['gt_masks'])


@pytest.mark.parametrize('seed', range(5))
def test_random_place_pad_moves_content_boxes_and_masks(seed):
    np.random.seed(seed)
    r = RandomPlacePad(square=True, pad_val=(1, 2, 3))(sample())
    assert r['img'].shape[:2] == (200, 200)
    check_consistent(r)
    assert (r['img'] == 7).all(-1).sum() == 100 * 200
    assert (r['img'] == (1, 2, 3)).all(-1).sum() == 100 * 200
    r = RandomPlacePad(size=(256, 256), random_offset=False)(sample())
    assert r['img'].shape[:2] == (256, 256) and (r['img'][:100, :200]
                                                 == 7).all()
    np.testing.assert_array_equal(r['gt_bboxes'].tensor[0].numpy(),
                                  [10, 20, 60, 40])


@pytest.mark.parametrize('seed', range(10))
def test_crop_keeps_objects_with_more_than_30_percent_visible(seed):
    np.random.seed(seed)
    before = sample()
    areas = before['gt_bboxes'].areas.numpy().copy()
    t = RandomCropKeepFraction(
        crop_size=(0.6, 1.0), crop_type='relative_range', min_visible=0.3)
    r = t(before)
    check_consistent(r)
    kept = r['gt_bboxes_labels']
    assert len(kept) >= 1
    visible = r['gt_bboxes'].areas.numpy() / areas[kept]
    assert (visible > 0.3).all()


def test_crop_that_cannot_keep_an_object_returns_the_sample_uncropped():
    # a tiny object in a corner: a 10x10 crop can't usually hold 30 % of it
    s = sample(boxes=((0, 0, 4, 4), ))
    t = RandomCropKeepFraction(crop_size=(10, 10), max_tries=3)
    np.random.seed(0)
    r = t(s)
    assert r['img'].shape[:2] in ((100, 200), (10, 10))
    check_consistent(r)
    assert len(r['gt_bboxes']) == 1


def test_crop_of_an_image_without_objects():
    s = sample(boxes=())
    s['gt_masks'] = BitmapMasks(np.zeros((0, 100, 200), np.uint8), 100, 200)
    s['gt_bboxes'] = HorizontalBoxes(np.zeros((0, 4), np.float32))
    r = RandomCropKeepFraction(crop_size=(50, 50))(s)
    assert r['img'].shape[:2] == (50, 50) and len(r['gt_bboxes']) == 0
