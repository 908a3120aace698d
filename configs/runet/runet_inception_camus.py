# RU-Net variant: an inception-style ROI with three dilation rates.
_base_ = ['./runet_camus.py']
model = dict(roi=dict(dilations=(5, 11, 21)))
