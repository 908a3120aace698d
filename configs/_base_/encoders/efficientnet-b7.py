# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# smp's efficientnet-b7: levels 64, 48, 80, 224, 640 channels (the stem,
# then smp's block cuts), drop connect 0.2, static TF padding, no head conv.
# Trained from scratch by default (pretrained=None). The thesis started from
# ImageNet: set pretrained to lukemelas' EfficientNet-PyTorch (the weights smp
# uses) ImageNet file as published, efficientnet-b7-dcc49843.pth (_blocks.N is
# renamed to mmdet's N-th block; _conv_head, _bn1 and _fc are left out), or to
# a checkpoint in the wrapped network's own layout (also wrapped in
# 'state_dict'). Loading is strict: a file that does not fit this encoder is
# an error naming it. A local file is read with weights_only=True; a
# torchvision:// or http(s):// URI is downloaded. From the command line:
# --cfg-options model.backbone.pretrained=PATH; for the grid:
# tools/benchmark_grid.py --imagenet DIR.
encoder = dict(type='EfficientNetEncoder', arch='b7', pretrained=None)
