# SHG (RU-Net paper section III-C, after the CAMUS paper): three cascaded
# light U-Nets 1 (1.5M each, 4.5M in Table II); the second and third see the
# image concatenated with the previous softmax; every output has the Dice
# loss; the last one is the prediction. No normalisation (as U-Net 1); see
# shg-bn_camus.py for the batch-normalised variant.
_base_ = ['./unet1_camus.py']
light = _base_.lighter_unet_stage
model = dict(
    _delete_=True,
    type='StackedUNets',
    data_preprocessor=_base_.data_preprocessor,
    stages=[
        dict(
            backbone=dict(light['backbone'], in_channels=3),
            decode_head=light['decode_head']),
        dict(
            backbone=dict(light['backbone'], in_channels=3 + 4),
            decode_head=light['decode_head']),
        dict(
            backbone=dict(light['backbone'], in_channels=3 + 4),
            decode_head=light['decode_head'])
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
