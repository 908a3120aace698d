# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# smp's efficientnet-b3: levels 40, 32, 48, 136, 384 channels (the stem,
# then smp's block cuts), drop connect 0.2, static TF padding, no head conv.
# Trained from scratch by default; set pretrained='PATH' to a local
# checkpoint of the wrapped network in mmdet/mmpretrain's EfficientNet
# layout (nothing is downloaded).
encoder = dict(type='EfficientNetEncoder', arch='b3', pretrained=None)
