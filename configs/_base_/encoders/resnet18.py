# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# Trained from scratch by default (pretrained=None). The thesis started from
# ImageNet: set pretrained to torchvision's ImageNet file as published,
# resnet18-f37072fd.pth (or the older resnet18-5c106cde.pth) (conv1, bn1,
# layer1..4 load as they are; fc is left out), or to a checkpoint in the
# wrapped network's own layout (also wrapped in 'state_dict'). Loading is
# strict: a file that does not fit this encoder is an error naming it. A local
# file is read with weights_only=True; a torchvision:// or http(s):// URI is
# downloaded. From the command line: --cfg-options
# model.backbone.pretrained=PATH; for the grid: tools/benchmark_grid.py
# --imagenet DIR.
encoder = dict(type='ResNetEncoder', depth=18, pretrained=None)
