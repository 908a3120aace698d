# RU-Net "with a lighter U-Net" (paper section IV, alternative 5): both U-Nets
# are the light U-Net 1 of SHG (1.5M each; the paper gives no size for this
# variant, this is the only lighter U-Net 1 it defines). 2.97M parameters.
_base_ = ['./runet_camus.py']
model = dict(stages=[
    _base_.lighter_unet_stage, _base_.lighter_unet_stage
])
