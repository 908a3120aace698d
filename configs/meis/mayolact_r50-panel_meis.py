# maYOLACT with RAMEM's ResNet50-panel backbone (the first bottleneck of
# stages 2-4 downsamples through global panel attention).
_base_ = './mayolact_r50_meis.py'
model = dict(backbone=dict(type='ResNetPanel'))
