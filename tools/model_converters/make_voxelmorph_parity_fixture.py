# Copyright (c) mmecho contributors. All rights reserved.
"""Build VoxelMorph's own 2D ``VxmDense`` from its source, save a parity
fixture for ``tools/model_converters/voxelmorph2mmecho.py``.

    python tools/model_converters/make_voxelmorph_parity_fixture.py VXM_DIR \
        [--out-dir tests/data/voxelmorph] [--size 64] [--seed 0] \
        [--flow-std 0.5] [--commit SHA]

VXM_DIR is a copy of github.com/voxelmorph/voxelmorph (the fixture was made
from commit ca28315, e.g. ``git --git-dir=MIRROR archive HEAD | tar -x -C
VXM_DIR``). Run it in an environment with torch and numpy and WITHOUT
mmecho (it refuses to run when ``mmecho`` gets imported): the fixture is
VoxelMorph's function, computed by VoxelMorph's code. Not run by the tests:
``tests/test_tools/test_voxelmorph2mmecho.py`` only reads what it writes.

What runs is VoxelMorph's code, imported as a user imports it
(``VXM_BACKEND=pytorch``, ``import voxelmorph``): ``voxelmorph/__init__.py``,
``voxelmorph/py/utils.py``, ``voxelmorph/generators.py`` and
``voxelmorph/torch/{networks,layers,modelio,losses,utils}.py``;
``vxm.networks.VxmDense(inshape, nb_unet_features=[[16, 32, 32, 32], [32, 32,
32, 32, 32, 16, 16]], int_steps=7, int_downsize=2)`` (paper 003's settings,
those of ``configs/mnms/voxelmorph_mnms.py``), its ``forward`` and its
``save``. Stubbed, only when not installed, as empty modules: ``neurite``
(``__version__ = '0.2'``, checked by ``voxelmorph/__init__.py``; nothing of
it is used by the PyTorch backend), ``scipy``, ``skimage`` /
``skimage.measure`` and ``pystrum.pynd.ndutils`` (imported at the top of
``voxelmorph/py/utils.py``, used only by its numpy helpers, none of which
runs here).

Weights: under ``torch.manual_seed(seed)``, ``VxmDense(...)``'s own init,
then the U-Net convs' weights drawn again with He init for LeakyReLU(0.2)
(``kaiming_normal_(a=0.2)``; PyTorch's default init shrinks the signal at
every layer and the field comes out nearly constant, a translation), the
flow conv's weights from ``Normal(0, flow_std)`` and its bias set to
``(0.4, -0.3)``: VoxelMorph's own ``Normal(0, 1e-5)`` init gives a field of
~1e-4 px, where any warp is the identity and a parity check proves
nothing. All float32. Inputs: two seeded smooth random
image pairs in [0, 1] (bicubic up-sampling of 8 x 8 noise).

Written to ``--out-dir``:

* ``vxm_dense_2d_{size}.pt``: what ``model.save(path)`` writes
  (``{'config': ..., 'model_state': ...}``; ``save`` leaves out the
  SpatialTransformer grids), float32;
* ``parity_io_{size}.pt``: ``source`` (moving) and ``target`` (fixed)
  ``(2, 1, size, size)``; ``outputs``: ``y_source`` and ``preint_flow``
  (``model(source, target)``), ``y_source_registration`` and ``pos_flow``
  (``model(source, target, registration=True)``), ``velocity`` (the flow
  conv's output, before ``ResizeTransform``); ``grids``: the two buffers
  ``model.state_dict()`` holds and ``save`` drops (``transformer.grid``,
  ``integrate.transformer.grid``); ``meta`` (versions, commit, seed,
  SHA-256 of the VoxelMorph files that ran, field statistics).
"""
import argparse
import hashlib
import importlib.util
import os
import os.path as osp
import platform
import subprocess
import sys
import types

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
DEFAULT_OUT = osp.join(ROOT, 'tests', 'data', 'voxelmorph')
ENC = [16, 32, 32, 32]
DEC = [32, 32, 32, 32, 32, 16, 16]
SOURCES = ('voxelmorph/__init__.py', 'voxelmorph/torch/networks.py',
           'voxelmorph/torch/layers.py', 'voxelmorph/torch/modelio.py')


def _stub_missing_imports():
    """Empty modules for VoxelMorph's import-time dependencies that are
    not installed; returns their names."""
    stubbed = []

    def stub(name, **attrs):
        if name in sys.modules:
            return sys.modules[name]
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            return None
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        stubbed.append(name)
        parent, _, child = name.rpartition('.')
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, mod)
        return mod

    stub('neurite', __version__='0.2')
    stub('scipy')
    stub('skimage')
    stub('skimage.measure')
    stub('pystrum')
    stub('pystrum.pynd')
    stub('pystrum.pynd.ndutils')
    return stubbed


def _commit(vxm_dir, given):
    if given:
        return given
    try:
        return subprocess.run(['git', '-C', vxm_dir, 'rev-parse', 'HEAD'],
                              capture_output=True,
                              text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def _sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('vxm_dir', help='copy of github.com/voxelmorph/voxelmorph')
    p.add_argument('--out-dir', default=DEFAULT_OUT)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--flow-std',
        type=float,
        default=0.5,
        help='std of the flow conv weights (VoxelMorph: 1e-5)')
    p.add_argument(
        '--commit',
        help='VoxelMorph commit of VXM_DIR (default: git rev-parse there)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    vxm_dir = osp.abspath(args.vxm_dir)
    if not osp.isfile(osp.join(vxm_dir, 'voxelmorph', 'torch', 'networks.py')):
        raise SystemExit(f'{vxm_dir} is not a VoxelMorph checkout '
                         '(voxelmorph/torch/networks.py missing)')
    import numpy as np
    import torch
    import torch.nn.functional as F

    os.environ['VXM_BACKEND'] = 'pytorch'
    stubbed = _stub_missing_imports()
    sys.path.insert(0, vxm_dir)
    import voxelmorph as vxm
    if not osp.abspath(vxm.__file__).startswith(vxm_dir + os.sep):
        raise SystemExit(f'imported voxelmorph from {vxm.__file__}, not '
                         f'from {vxm_dir}')
    if any(m == 'mmecho' or m.startswith('mmecho.') for m in sys.modules):
        raise SystemExit('mmecho was imported: the fixture must come from '
                         "VoxelMorph's code alone")

    size, seed = args.size, args.seed
    torch.manual_seed(seed)
    model = vxm.networks.VxmDense(
        inshape=(size, size),
        nb_unet_features=[list(ENC), list(DEC)],
        int_steps=7,
        int_downsize=2)
    with torch.no_grad():
        # He init for LeakyReLU(0.2) so that the input reaches the flow
        # conv (PyTorch's default init shrinks the signal ~1.7x per layer:
        # after 11 convs the field is nearly constant, a translation)
        for block in [*model.unet_model.encoder, *model.unet_model.decoder]:
            for conv in block:
                torch.nn.init.kaiming_normal_(conv.main.weight, a=0.2)
        for conv in model.unet_model.remaining:
            torch.nn.init.kaiming_normal_(conv.main.weight, a=0.2)
        model.flow.weight.normal_(0.0, args.flow_std)
        model.flow.bias.copy_(torch.tensor([0.4, -0.3]))
    model.eval()

    g = torch.Generator().manual_seed(seed + 1)

    def smooth_images():
        x = F.interpolate(
            torch.rand(2, 1, 8, 8, generator=g),
            size=(size, size),
            mode='bicubic',
            align_corners=True)
        return x.clamp(0, 1)

    source, target = smooth_images(), smooth_images()  # moving, fixed
    captured = {}
    hook = model.flow.register_forward_hook(
        lambda m, i, o: captured.__setitem__('velocity',
                                             o.detach().clone()))
    with torch.no_grad():
        y_source, preint_flow = model(source, target)
        y_reg, pos_flow = model(source, target, registration=True)
    hook.remove()

    os.makedirs(args.out_dir, exist_ok=True)
    weights = osp.join(args.out_dir, f'vxm_dense_2d_{size}.pt')
    model.save(weights)  # VoxelMorph's LoadableModel.save
    sd = model.state_dict()
    grids = {k: v.clone() for k, v in sd.items() if k.endswith('.grid')}

    # where the field leaves the image (there zeros vs border padding
    # matters) and its size
    ys, xs = torch.meshgrid(
        torch.arange(size), torch.arange(size), indexing='ij')
    py, px = ys + pos_flow[:, 0], xs + pos_flow[:, 1]
    outside = ((py < 0) | (py > size - 1) | (px < 0) |
               (px > size - 1)).float().mean().item()
    mag = pos_flow.norm(dim=1)
    stats = dict(
        pos_flow_max_abs=pos_flow.abs().max().item(),
        pos_flow_mean_norm=mag.mean().item(),
        pos_flow_spatial_std=pos_flow.std(dim=(2, 3)).mean().item(),
        preint_flow_max_abs=preint_flow.abs().max().item(),
        velocity_max_abs=captured['velocity'].abs().max().item(),
        # what the integration changes: exp(v) - v
        integration_max_abs_change=(pos_flow -
                                    captured['velocity']).abs().max().item(),
        y_source_max_abs_change=(y_source - source).abs().max().item(),
        fraction_sampled_outside=outside)
    commit = _commit(vxm_dir, args.commit)
    meta = dict(
        voxelmorph_commit=commit,
        voxelmorph_version=str(getattr(vxm, '__version__', 'unknown')),
        voxelmorph_sources_sha256={
            p: _sha256(osp.join(vxm_dir, p))
            for p in SOURCES
        },
        stubbed_modules=stubbed,
        torch=str(torch.__version__),
        numpy=str(np.__version__),
        python=platform.python_version(),
        seed=seed,
        size=size,
        flow_std=args.flow_std,
        flow_bias=[0.4, -0.3],
        call='VxmDense(inshape=(size, size), nb_unet_features=[ENC, DEC], '
        'int_steps=7, int_downsize=2); model(source, target) and '
        'model(source, target, registration=True)',
        stats=stats)
    io_path = osp.join(args.out_dir, f'parity_io_{size}.pt')
    torch.save(
        dict(
            source=source,
            target=target,
            outputs=dict(
                y_source=y_source,
                preint_flow=preint_flow,
                y_source_registration=y_reg,
                pos_flow=pos_flow,
                velocity=captured['velocity']),
            grids=grids,
            meta=meta), io_path)
    print(f'wrote {weights} ({osp.getsize(weights)} bytes) and {io_path} '
          f'({osp.getsize(io_path)} bytes)')
    print(f'VoxelMorph {commit} from {vxm_dir}; torch {torch.__version__}; '
          f'stubbed: {stubbed}')
    for k, v in stats.items():
        print(f'  {k}: {v:.4g}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
