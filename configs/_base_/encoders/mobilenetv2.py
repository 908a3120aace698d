# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# smp's mobilenet_v2 (torchvision's features): levels 16, 24, 32, 96, 1280
# channels (the last is the 1x1 conv 320 -> 1280 + BN + ReLU6).
# Trained from scratch by default; set pretrained='PATH' to a local
# checkpoint in mmseg/mmpretrain's MobileNetV2 layout (conv1, layer1..7,
# conv2; nothing is downloaded).
encoder = dict(type='MobileNetV2Encoder', pretrained=None)
