# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# smp's mobilenet_v2 (torchvision's features): levels 16, 24, 32, 96, 1280
# channels (the last is the 1x1 conv 320 -> 1280 + BN + ReLU6).
# Trained from scratch by default (pretrained=None). The thesis started from
# ImageNet: set pretrained to torchvision's ImageNet file as published,
# mobilenet_v2-b0353104.pth (features.0..18 are renamed to conv1, layer1..7,
# conv2; classifier is left out), or to a checkpoint in the wrapped network's
# own layout (also wrapped in 'state_dict'). Loading is strict: a file that
# does not fit this encoder is an error naming it. A local file is read with
# weights_only=True; a torchvision:// or http(s):// URI is downloaded. From
# the command line: --cfg-options model.backbone.pretrained=PATH; for the
# grid: tools/benchmark_grid.py --imagenet DIR.
encoder = dict(type='MobileNetV2Encoder', pretrained=None)
