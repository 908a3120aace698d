# The plain default encoder: the original U-Net contracting path (64..1024
# channels, BN), for the grid rows without a named encoder.
# Trained from scratch: there are no ImageNet weights for it (it is not a
# classification backbone; tools/benchmark_grid.py --imagenet trains
# its cells from scratch). pretrained='PATH' loads a checkpoint in its
# own layout (strictly; a file that does not fit is an error).
encoder = dict(type='PlainConvEncoder', base_channels=64, pretrained=None)
