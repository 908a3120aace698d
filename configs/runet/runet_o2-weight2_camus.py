# RU-Net variant: the second output's loss weighted twice the first's.
_base_ = ['./runet_camus.py']
model = dict(loss_weights=(1.0, 2.0))
