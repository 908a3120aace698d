# A CAMUS-grid encoder, merged into model.backbone by the leaf configs.
# Trained from scratch by default; set pretrained='PATH' to a local
# checkpoint of the wrapped network (nothing is downloaded).
encoder = dict(type='ResNetEncoder', depth=18, pretrained=None)
