# Paper 001's "2D sparse" baseline: the CAMUS-benchmark U-Net trained on the
# ED and ES frames only, tested on every frame of the test sequences with the
# sequence metrics (ED/ES accuracy, EDV/ESV/EF, temporal smoothness).
_base_ = ['../camus/unet/unet_camus.py']
test_dataloader = dict(dataset=dict(instants='all'))
test_evaluator = dict(_delete_=True, type='TemporalSegMetric')
