# LinkNet (Chaurasia & Culurciello, 2017) as segmentation_models_pytorch 0.6.0
# builds it (smp.Linknet defaults, the thesis's library): from the deepest
# level, five decoder blocks (1x1 conv-BN-ReLU to C/4, 4x4 transposed conv
# stride 2 with bias + BN + ReLU, 1x1 conv-BN-ReLU to the next level's
# channels, the last block to 32), each of the first four followed by the
# *addition* of the next shallower level; a 1x1 classifier at full
# resolution. Unlike the paper: 4x4 instead of 3x3 transposed convs, a fifth
# block + 1x1 classifier instead of its final full-conv/conv/full-conv.
_base_ = ['./segmentor.py']
model = dict(decode_head=dict(type='LinkNetHead', prefinal_channels=32))
