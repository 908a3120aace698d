# CAMUS 2D frames for the benchmark grid: camus_frames.py (ED and ES of both
# apical views, resized to 256x256 for the network, official split) scored by
# EchoSegMetric: at test time the prediction is resized back and compared
# with the label map at its original resolution and pixel spacing. The thesis
# split (random 80/10/10 over patients, written by
# tools/dataset_converters/camus_split.py) is selected by pointing the
# dataloaders' ``split`` at database_split/thesis_{training,validation,
# testing}.txt, or with tools/benchmark_grid.py --split thesis.
_base_ = ['./camus_frames.py']
val_evaluator = dict(_delete_=True, type='EchoSegMetric')
test_evaluator = val_evaluator
