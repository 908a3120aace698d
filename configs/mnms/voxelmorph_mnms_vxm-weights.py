# Paper 003's VoxelMorph (./voxelmorph_mnms.py) for weights trained with
# VoxelMorph's own PyTorch code (voxelmorph.networks.VxmDense, saved with
# model.save(path)) and converted by
#   python tools/model_converters/voxelmorph2mmecho.py VXM.pt OUT.pth
# The one change: the scaling-and-squaring steps sample zeros outside the
# image, as VoxelMorph's VecInt (grid_sample's default padding), so the
# converted network computes VxmDense's field exactly (mmecho's own configs
# repeat the border value; the fields differ only where x + u(x) leaves the
# image). Frames are 256 x 256 as in voxelmorph_mnms.py: a VxmDense built for
# another inshape needs its own size (the converter's --write-config writes
# that config); see docs/registration.md, "Bringing VoxelMorph weights".
_base_ = ['./voxelmorph_mnms.py']
model = dict(network=dict(integration_padding='zeros'))
