# Copyright (c) mmecho contributors. All rights reserved.
"""Build segmentation_models_pytorch (smp) 0.6.0 networks, save parity
fixtures for ``tools/model_converters/smp2mmecho.py``.

Run with a Python that has smp 0.6.0 (this script does not import mmecho,
and mmecho's environment does not have smp)::

    # torch 2.14.1, torchvision 0.29.1, smp 0.6.0:
    PEER=/tmp/peer_venv/bin/python
    $PEER tools/model_converters/make_smp_parity_fixtures.py
        # the CI fixtures -> tests/data/smp/<name>.pt (see VARIANTS)
    $PEER tools/model_converters/make_smp_parity_fixtures.py --full \
        --out /tmp/smp_full
        # every default grid cell smp builds (9 x 10) and the thesis U-Net,
        # as the grid's leaf configs have them (several GB in all)
    $PEER tools/model_converters/make_smp_parity_fixtures.py --only unet_r34_d3
    $PEER tools/model_converters/make_smp_parity_fixtures.py --full \
        --only unet_r18 unet_plain --size 48 --out /tmp/smp_sizes

Not run by the tests: ``tests/test_tools/test_smp2mmecho.py`` only reads
the fixtures (and ``tools/model_converters/smp_parity.py DIR`` compares a
folder of them with mmecho).

What runs is smp's own code: ``smp.<Arch>(encoder_name=..., encoder_weights=
None, in_channels=3, classes=4, **kwargs)`` and its ``forward`` in eval mode.
The thesis's U-Net (paper 002, appendix, ``UNet`` with ``SIZE = 32``) is not
in smp: :class:`ThesisUNet` below is transcribed from the appendix listing
(``conv_block``, ``UNet.__init__``, ``UNet.forward``) with its attribute
names, so its state-dict keys are the ones a checkpoint of the thesis's code
has (``down1.0.weight``, ..., ``out.bias``); only the defaults differ
(``n_channels=3, n_class=4`` instead of 1, 1, as for the smp cells).

Weights (seeded per fixture: ``--seed`` + crc32(name) mod 1e6): each
module's own initialisation (smp's and torch's), then every conv/linear bias
uniform in [-0.1, 0.1], BatchNorm / GroupNorm weights in [0.5, 1.5] and
biases in [-0.3, 0.3]; BatchNorm running
statistics are first set from a forward pass in training mode on two other
random images (momentum 1, so eval-mode BN sees about unit-scale
activations, not the identity of fresh statistics and not an explosion
through 100 random layers) and then perturbed (mean + U(-0.3, 0.3) x std,
var x U(0.5, 2)). Every floating tensor is then rounded to float16 and the
reference output is computed from the rounded weights in float32, eval mode,
without autograd, on ``input`` (randn, 1 x 3 x S x S).

Tensors smp builds but its forward never uses for that network (PSPNet's
and reduced-depth encoders' deeper stages, EfficientNet's ``_conv_head`` /
``_bn1``) are found by autograd (no gradient reaches them from the output)
and stored as zeros with stride 0 (one element on disk, the original shape);
``unused`` lists them. The converter drops exactly these.

CI fixtures are small networks of smp's classes (see :data:`VARIANTS`): the
default cells are 5-300 MB in float16 (U-Net x ResNet34: 49 MB, MA-Net x
ResNet50: 295 MB), so most fixtures use smp's own arguments to shrink a cell
(``encoder_depth``, ``decoder_channels``, ...) and record the matching
mmecho ``cfg_options``. Saved (``torch.load(weights_only=True)``-loadable):
``state_dict`` (smp's names; float16, int64 ``num_batches_tracked``),
``input``, ``output`` (float32 logits), ``cell`` (``arch:encoder``),
``name``, ``smp_class``, ``smp_kwargs``, ``cfg_options``, ``unused``,
``seed``, ``dtype``, ``smp_version``, ``torch_version``,
``torchvision_version``.
"""
import argparse
import os
import zlib
import os.path as osp
import sys

import torch
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
DEFAULT_OUT = osp.join(ROOT, 'tests', 'data', 'smp')

#: mmecho grid architecture key -> smp class name
ARCHS = {
    'unet': 'Unet',
    'unetplusplus': 'UnetPlusPlus',
    'manet': 'MAnet',
    'linknet': 'Linknet',
    'fpn': 'FPN',
    'pspnet': 'PSPNet',
    'pan': 'PAN',
    'deeplabv3': 'DeepLabV3',
    'deeplabv3plus': 'DeepLabV3Plus',
}
#: mmecho grid encoder key -> smp encoder name
ENCODERS = {
    'r18': 'resnet18',
    'r34': 'resnet34',
    'r50': 'resnet50',
    'r101': 'resnet101',
    'mbv2': 'mobilenet_v2',
    'effb0': 'efficientnet-b0',
    'effb1': 'efficientnet-b1',
    'effb3': 'efficientnet-b3',
    'effb5': 'efficientnet-b5',
    'effb7': 'efficientnet-b7',
}

# ---------------------------------------------------------------------------
# The thesis's U-Net, transcribed from paper 002's appendix (listing lines
# 215-282: SIZE = 32, conv_block, class UNet). Attribute names as printed;
# the listing's ``conv block(n channels, SIZE)`` OCR gaps read as
# ``conv_block(n_channels, SIZE)``. In conv_block both BatchNorm2d take
# mid_channels, which equals out_channels in every call.
# ---------------------------------------------------------------------------
SIZE = 32


def conv_block(in_channels, out_channels, mid_channels=None):
    if mid_channels is None:
        mid_channels = out_channels
    return nn.Sequential(
        nn.Conv2d(in_channels, mid_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(mid_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(mid_channels),
        nn.ReLU(inplace=True))


class ThesisUNet(nn.Module):
    """``UNet`` of paper 002's appendix (the thesis's own U-Net)."""

    def __init__(self, n_channels=1, n_class=1):
        super().__init__()
        self.down1 = conv_block(n_channels, SIZE)
        self.down2 = conv_block(SIZE, SIZE * 2)
        self.down3 = conv_block(SIZE * 2, SIZE * 4)
        self.down4 = conv_block(SIZE * 4, SIZE * 8)
        self.maxpool = nn.MaxPool2d(2)
        self.upsample = nn.Upsample(
            scale_factor=2, mode='bilinear', align_corners=True)
        self.up3 = conv_block(SIZE * 4 + SIZE * 8, SIZE * 4)
        self.up2 = conv_block(SIZE * 2 + SIZE * 4, SIZE * 2)
        self.up1 = conv_block(SIZE * 2 + SIZE, SIZE)
        self.out = nn.Conv2d(SIZE, n_class, 3, padding=1)

    def forward(self, x):
        # ENCODER
        conv1 = self.down1(x)
        x = self.maxpool(conv1)
        conv2 = self.down2(x)
        x = self.maxpool(conv2)
        conv3 = self.down3(x)
        x = self.maxpool(conv3)
        x = self.down4(x)
        # DECODER
        x = self.upsample(x)
        x = torch.cat([x, conv3], dim=1)
        x = self.up3(x)
        x = self.upsample(x)
        x = torch.cat([x, conv2], dim=1)
        x = self.up2(x)
        x = self.upsample(x)
        x = torch.cat([x, conv1], dim=1)
        x = self.up1(x)
        out = self.out(x)
        return out


# ---------------------------------------------------------------------------
# CI fixtures: name -> cell, smp kwargs beyond the defaults, the mmecho
# cfg_options that build the same network from the cell's leaf config, and
# the input size. Together they cover all nine smp decoders, the four
# encoder families (basic and bottleneck ResNets, MobileNetV2, EfficientNet
# b0 and b3: their static "SAME" padding at odd sizes), dilated stages
# (output stride 8) and the unused-tensor path (PSPNet, reduced depth,
# EfficientNet's head).
# ---------------------------------------------------------------------------
VARIANTS = {
    # the thesis's appendix U-Net, full size (SIZE = 32)
    'unet_plain': dict(cell='unet:plain', kwargs={}, cfg_options={},
                       size=64),
    # a default grid cell as it is (encoder_depth=3 is PSPNet's default)
    'pspnet_mbv2': dict(cell='pspnet:mbv2', kwargs={}, cfg_options={},
                        size=64),
    'unet_r34_d3': dict(
        cell='unet:r34',
        kwargs=dict(encoder_depth=3, decoder_channels=(32, 16, 8)),
        cfg_options={
            'model.backbone.out_indices': (0, 1, 2),
            'model.decode_head.decoder_channels': (32, 16, 8),
        },
        size=64),
    'manet_r50_d2': dict(
        cell='manet:r50',
        kwargs=dict(
            encoder_depth=2,
            decoder_channels=(32, 16),
            decoder_pab_channels=16),
        cfg_options={
            'model.backbone.out_indices': (0, 1),
            'model.decode_head.decoder_channels': (32, 16),
            'model.decode_head.pab_channels': 16,
        },
        size=64),
    'deeplabv3plus_effb3_d3': dict(
        cell='deeplabv3plus:effb3',
        kwargs=dict(encoder_depth=3, decoder_channels=32),
        cfg_options={
            'model.backbone.out_indices': (1, 2),
            'model.decode_head.channels': 32,
        },
        size=64),
    'pan_effb0_d4': dict(
        cell='pan:effb0',
        kwargs=dict(encoder_depth=4),
        cfg_options={
            'model.backbone.out_indices': (0, 1, 2, 3),
            'model.decode_head.in_index': (1, 2, 3),
        },
        size=128),  # PAN's pyramid attention halves the deepest map 3x
    'fpn_mbv2_d4': dict(
        cell='fpn:mbv2',
        kwargs=dict(
            encoder_depth=4,
            decoder_pyramid_channels=32,
            decoder_segmentation_channels=32,
            upsampling=2),
        cfg_options={
            'model.backbone.out_indices': (0, 1, 2, 3),
            'model.decode_head.in_index': (0, 1, 2, 3),
            'model.decode_head.pyramid_channels': 32,
            'model.decode_head.channels': 32,
            'model.decode_head.upsampling': 2,
        },
        size=64),
    'linknet_mbv2_d3': dict(
        cell='linknet:mbv2',
        kwargs=dict(encoder_depth=3),
        cfg_options={'model.backbone.out_indices': (0, 1, 2)},
        size=64),
    'unetplusplus_mbv2_d3': dict(
        cell='unetplusplus:mbv2',
        kwargs=dict(encoder_depth=3, decoder_channels=(32, 16, 8)),
        cfg_options={
            'model.backbone.out_indices': (0, 1, 2),
            'model.decode_head.decoder_channels': (32, 16, 8),
        },
        size=64),
    'deeplabv3_effb0_d4os8': dict(
        cell='deeplabv3:effb0',
        kwargs=dict(encoder_depth=4, decoder_channels=32),
        cfg_options={
            'model.backbone.out_indices': (3, ),
            'model.decode_head.in_index': 0,
            'model.decode_head.channels': 32,
        },
        size=64),
}


def build_smp(cell: str, kwargs: dict):
    """``(smp class name, network)`` of a cell (``'unet:plain'``: the
    thesis's U-Net)."""
    arch, enc = cell.split(':')
    if cell == 'unet:plain':
        return 'ThesisUNet (paper 002 appendix)', ThesisUNet(
            n_channels=3, n_class=4, **kwargs)
    import segmentation_models_pytorch as smp
    cls = ARCHS[arch]
    return f'segmentation_models_pytorch.{cls}', getattr(smp, cls)(
        encoder_name=ENCODERS[enc],
        encoder_weights=None,
        in_channels=3,
        classes=4,
        **kwargs)


def _norms(model):
    return [
        m for m in model.modules()
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))
    ]


@torch.no_grad()
def randomise(model: nn.Module, size: int, gen: torch.Generator) -> None:
    """Non-trivial biases, norm affines and BN running statistics (see the
    module docstring)."""

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and \
                m.bias is not None:
            uniform(m.bias, -0.1, 0.1)
    for m in _norms(model):
        uniform(m.weight, 0.5, 1.5)
        uniform(m.bias, -0.3, 0.3)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 1.0
    model.train()
    model(torch.randn(2, 3, size, size, generator=gen))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
        std = m.running_var.sqrt()
        m.running_mean += (torch.rand(std.shape, generator=gen) * 0.6 -
                           0.3) * std
        m.running_var *= torch.rand(std.shape, generator=gen) * 1.5 + 0.5
    model.eval()


def unused_tensors(model: nn.Module, x: torch.Tensor) -> list:
    """State-dict keys no gradient reaches from the output (parameters) and
    the buffers of modules none of whose parameters gets one."""
    model.eval()
    model.zero_grad(set_to_none=True)
    model(x).sum().backward()
    unused = []
    for mname, m in model.named_modules():
        params = list(m.named_parameters(recurse=False))
        dead = [n for n, p in params if p.grad is None]
        prefix = f'{mname}.' if mname else ''
        unused += [prefix + n for n in dead]
        if params and len(dead) == len(params):
            unused += [prefix + n for n, _ in m.named_buffers(recurse=False)]
    model.zero_grad(set_to_none=True)
    return unused


def make_fixture(name: str, spec: dict, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the modules' own initialisation
    smp_class, model = build_smp(spec['cell'], spec['kwargs'])
    size = spec['size']
    randomise(model, size, gen)
    x = torch.randn(1, 3, size, size, generator=gen)
    sd = model.state_dict()
    rounded = {}
    for k, v in sd.items():
        if v.is_floating_point():
            h = v.half()
            if not torch.isfinite(h).all():
                raise RuntimeError(f'{name}: {k} overflows float16')
            rounded[k] = h
        else:
            rounded[k] = v.clone()
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in rounded.items()})
    unused = set(unused_tensors(model, x))
    stored = {}
    for k, v in rounded.items():
        if k in unused:  # one element on disk, the shape kept
            stored[k] = torch.zeros((), dtype=v.dtype).expand(v.shape)
        else:
            stored[k] = v
    model.eval()
    with torch.no_grad():
        out = model(x)
        # the zeros of the unused tensors change nothing
        model.load_state_dict({
            k: v.float() if v.is_floating_point() else v
            for k, v in stored.items()
        })
        again = model(x)
    if not torch.equal(out, again):
        raise RuntimeError(f'{name}: the "unused" tensors change the output')
    import torchvision
    try:
        import segmentation_models_pytorch as smp
        smp_version = str(smp.__version__)
    except ImportError:  # the thesis U-Net needs only torch
        smp_version = None
    return dict(
        name=name,
        cell=spec['cell'],
        smp_class=smp_class,
        smp_kwargs={k: list(v) if isinstance(v, tuple) else v
                    for k, v in spec['kwargs'].items()},
        cfg_options={k: list(v) if isinstance(v, tuple) else v
                     for k, v in spec['cfg_options'].items()},
        state_dict=stored,
        unused=sorted(unused),
        input=x,
        output=out,
        seed=seed,
        dtype='float16',
        smp_version=smp_version,
        torch_version=str(torch.__version__),
        torchvision_version=str(torchvision.__version__))


def full_variants() -> dict:
    """Every default cell smp 0.6.0 builds for the grid, and the thesis
    U-Net; PAN at 128 x 128 (see VARIANTS), the others at 64 x 64."""
    out = {'unet_plain': VARIANTS['unet_plain']}
    for arch in ARCHS:
        for enc in ENCODERS:
            out[f'{arch}_{enc}'] = dict(
                cell=f'{arch}:{enc}',
                kwargs={},
                cfg_options={},
                size=128 if arch == 'pan' else 64)
    return out


def save(obj: dict, path: str) -> None:
    tmp = path + '.partial'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=DEFAULT_OUT, help='folder')
    parser.add_argument('--full', action='store_true',
                        help='every default grid cell instead of VARIANTS')
    parser.add_argument('--only', nargs='+', help='fixture names')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--size', type=int,
        help='input side for every fixture instead of its own (64; PAN '
        '128), e.g. 48 to compare at sides that are not multiples of 32')
    args = parser.parse_args(argv)
    torch.set_grad_enabled(True)
    variants = full_variants() if args.full else VARIANTS
    names = args.only or list(variants)
    unknown = [n for n in names if n not in variants]
    if unknown:
        parser.error(f'unknown fixture names {unknown}; known: '
                     f'{", ".join(variants)}')
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        # a seed per fixture name: the same values whatever --only selects
        spec = dict(variants[name])
        if args.size:
            spec['size'] = args.size
        fix = make_fixture(name, spec,
                           args.seed + zlib.crc32(name.encode()) % 10**6)
        path = osp.join(args.out, f'{name}.pt')
        save(fix, path)
        used = sum(v.numel() for k, v in fix['state_dict'].items()
                   if k not in set(fix['unused']))
        print(f'{name:28s} {fix["cell"]:20s} {used / 1e6:7.3f} M used '
              f'tensors, {len(fix["unused"])} unused, output '
              f'{tuple(fix["output"].shape)} max|.| '
              f'{fix["output"].abs().max():.3g}, '
              f'{osp.getsize(path) / 1e6:.2f} MB', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
