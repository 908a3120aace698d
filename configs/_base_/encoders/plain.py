# The plain default encoder: the original U-Net contracting path (64..1024
# channels, BN), for the grid rows without a named encoder.
# Trained from scratch by default; set pretrained='PATH' to a local
# checkpoint of the wrapped network (nothing is downloaded).
encoder = dict(type='PlainConvEncoder', base_channels=64, pretrained=None)
