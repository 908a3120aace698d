# Two cascaded RU-Nets (paper section IV, alternative 3): four U-Nets 1; each
# U-Net after the first segments the image masked by the differentiable ROI
# of the previous U-Net's output (dil 11, shift 0.5), so the second RU-Net's
# first U-Net starts from the first RU-Net's refined output. Every output has
# the Dice loss; the last (o4) is the prediction. 7.91M parameters.
_base_ = ['./runet_camus.py']
model = dict(
    stages=[_base_.light_unet_stage] * 4,
    loss_weights=(1.0, 1.0, 1.0, 1.0),
    test_cfg=dict(output=4))
