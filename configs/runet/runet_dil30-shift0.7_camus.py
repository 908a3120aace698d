# RU-Net of Table III: dilation rate 30, first-sigmoid shift 0.7.
_base_ = ['./runet_camus.py']
model = dict(roi=dict(dilations=(30, ), shift=0.7))
