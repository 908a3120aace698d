# Copyright (c) mmecho contributors. All rights reserved.
"""Read the per-class bands of a MEIS-style COCO file for measurement."""
from typing import Dict, Iterator, Tuple

from mmecho.errors import DatasetFormatError
from .mmode_profiles import polygon_band_edges


def iter_coco_bands(
        ann_file: str,
        bitmaps: bool = False) -> Iterator[Tuple[dict, Dict[str, object]]]:
    """(image info, {class name: band}) for every image of ``ann_file``.

    Args:
        ann_file (str): COCO json (MEIS: one instance per class and image).
        bitmaps (bool): bands as (H, W) bool masks (what a model returns);
            by default polygons become sub-pixel ``(top, bottom)`` column
            edges (:func:`polygon_band_edges`), RLE stays a bitmap.

    Raises:
        DatasetFormatError: an annotation without a mask.
    """
    from pycocotools.coco import COCO
    coco = COCO(ann_file)
    cats = {c['id']: c['name'] for c in coco.loadCats(coco.getCatIds())}
    for img in coco.loadImgs(sorted(coco.getImgIds())):
        bands = {}
        for a in coco.loadAnns(coco.getAnnIds(imgIds=img['id'])):
            seg = a.get('segmentation')
            if not seg:
                raise DatasetFormatError(
                    ann_file, f'annotation {a.get("id")} of image '
                    f'{img["file_name"]} has no mask',
                    field='segmentation')
            name = cats[a['category_id']]
            if isinstance(seg, list) and not bitmaps:
                width = img.get('width')
                if not isinstance(width, int) or width < 1:
                    raise DatasetFormatError(
                        ann_file, f'image {img.get("file_name")!r}: '
                        f'expected a positive integer, got {width!r}',
                        field='width')
                bands[name] = polygon_band_edges(seg, width)
            else:
                bands[name] = coco.annToMask(a) > 0
        yield img, bands
