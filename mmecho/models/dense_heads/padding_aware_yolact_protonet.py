# Copyright (c) mmecho contributors. All rights reserved.
"""YOLACT protonet that knows where the batch padding is."""
import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import YOLACTProtonet
from torch import Tensor

from mmecho.registry import MODELS


def _canvas_shape(img_meta: dict):
    """(h, w) of the network input the prototypes cover (with padding)."""
    for key in ('batch_input_shape', 'pad_shape', 'img_shape'):
        if key in img_meta:
            return tuple(img_meta[key][:2])
    raise KeyError('img_meta has no batch_input_shape/pad_shape/img_shape')


@MODELS.register_module()
class PaddingAwareYOLACTProtonet(YOLACTProtonet):
    """mmdet's :class:`YOLACTProtonet` for padded (non-square) inputs.

    The prototypes cover the whole padded network input, but mmdet's
    protonet normalises boxes by the unpadded ``img_shape`` when cropping and
    stretches the whole prototype map onto the original image at test time.
    That is only right when nothing is padded (mmdet's YOLACT resizes to a
    fixed square). MEIS images (1024x768) are resized keeping their aspect
    ratio and padded, as in RAMEM, so here:

    * boxes are normalised by the padded input shape before cropping;
    * at test time the masks are upsampled (bilinear) to the padded canvas
      at the original scale, thresholded and cut back to the original image
      (RAMEM's "upsample to max(h, w), cut back to h x w").

    Shapes: prototypes (H_p, W_p, num_protos) at stride 4 of the padded
    input; output masks (num_instances, ori_h, ori_w) bool when rescaled.
    """

    def crop_mask_preds(self, mask_preds, batch_img_metas, positive_infos):
        cropped = []
        for img_meta, preds, info in zip(batch_img_metas, mask_preds,
                                         positive_infos):
            boxes = info.bboxes.clone()
            h, w = _canvas_shape(img_meta)
            boxes[:, 0::2] /= w
            boxes[:, 1::2] /= h
            preds = self.crop_single(preds, boxes)
            cropped.append(preds.permute(2, 0, 1).contiguous())
        return cropped

    def _predict_by_feat_single(self,
                                mask_preds: Tensor,
                                bboxes: Tensor,
                                img_meta: dict,
                                rescale: bool,
                                cfg=None) -> Tensor:
        cfg = self.test_cfg if cfg is None else cfg
        pad_h, pad_w = _canvas_shape(img_meta)
        img_h, img_w = img_meta['img_shape'][:2]
        if rescale:
            sw, sh = img_meta['scale_factor'][:2]
            bboxes /= bboxes.new_tensor([sw, sh, sw, sh])
            out_h, out_w = img_meta['ori_shape'][:2]
            canvas = (int(round(pad_h / sh)), int(round(pad_w / sw)))
        else:
            out_h, out_w = img_h, img_w
            canvas = (pad_h, pad_w)
        canvas = (max(canvas[0], out_h), max(canvas[1], out_w))
        masks = F.interpolate(
            mask_preds.unsqueeze(0),
            canvas,
            mode='bilinear',
            align_corners=False).squeeze(0)[:, :out_h, :out_w]
        masks = masks > cfg.mask_thr
        if cfg.mask_thr_binary < 0:
            masks = (masks * 255).to(dtype=torch.uint8)
        return masks
