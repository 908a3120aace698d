# Copyright (c) mmecho contributors. All rights reserved.
"""Build RAMEM's own network from its source, save a parity fixture.

    python tools/model_converters/make_ramem_parity_fixture.py RAMEM_DIR \
        [--out tests/data/ramem/parity_upanet8_160.pt] [--seed 0]
        [--width 8] [--neck-channels 32] [--size 160]
    python tools/model_converters/make_ramem_parity_fixture.py RAMEM_DIR \
        --check-full        # UPANet80 at 544x544, compared with mmecho here

RAMEM_DIR is a checkout of github.com/hanktseng131415go/RAMEM (the fixture
was made from commit 7b880cc, e.g. ``git --git-dir=MIRROR archive HEAD | tar
-x -C RAMEM_DIR``). Not run by the tests: ``tests/test_tools/
test_ramem2mmecho.py`` only reads the fixture it writes.

What runs is the authors' code: ``config.upanet16_meis`` (mode 'train', as
``main.py`` builds the network), ``modules.yolact.Yolact`` and its
``forward``, ``modules.upanets_v2.UPANets``, ``modules.yolact.FPN``,
``ProtoNet``, ``PredictionModule`` and ``utils.augmentations.val_aug``
(pad to square, resize, ``(BGR - mean) / std``, BGR -> RGB). Stubbed:
only ``torch.Tensor.cuda`` while ``config.py`` is imported (its module-level
``COLORS_cuda = ....cuda()`` fails without a GPU; it returns the CPU tensor)
and the working directory during that import (``config.py`` creates
``results/``, ``weights/``... folders; a temporary folder takes them). Nothing
CUDA-only or compiled is reached at inference (no NMS is run).

The fixture is small (about 1 MB): ``Yolact(cfg)`` of ``upanet16_meis`` with
its backbone, FPN, protonet, prediction module and semantic conv replaced by
the authors' classes at a smaller size (``UPANets(width, 1)``,
``FPN((4w, 8w, 16w), C)``, ``ProtoNet(32, C)``, ``PredictionModule(cfg, 32,
C)``, ``Conv2d(C, 4, 1)``), i.e. the same layers as UPANet80 with fewer
channels, on a ``size`` x ``size`` input (160: the stage-4 dense blocks run
at 5x5, the odd-size path that 544 takes at 17x17). Random weights, seeded,
with non-trivial BatchNorm/GroupNorm affine and running statistics and PReLU
slopes, rounded to float16 (the outputs are computed with the rounded
weights, in float32).

Saved (``torch.load(weights_only=True)``-loadable: tensors, dicts, lists,
str, int, float): ``state_dict`` (RAMEM's names, float16 / int64),
``image_bgr`` (uint8 H x W x 3), ``input`` (RAMEM's normalised 1 x 3 x H x W),
``outputs`` (RAMEM's per-level ``conf`` (HW, 5, background first), ``box``
(HW, 4), ``coef`` (HW, 32), ``fpn`` (P3-P7), ``proto`` (H/4, W/4, 32),
``seg`` (4, H/8, W/8), ``semantic_seg_conv`` on P3, training-only in RAMEM),
``anchors`` (RAMEM's ``net.anchors`` for this input, relative cx, cy, w, h),
``anchors_544`` (those of ``upanet80_meis`` at 544) and ``meta``.
"""
import argparse
import contextlib
import os
import os.path as osp
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
DEFAULT_OUT = osp.join(ROOT, 'tests', 'data', 'ramem',
                       'parity_upanet8_160.pt')


@contextlib.contextmanager
def _ramem_import_stubs():
    """``Tensor.cuda`` -> identity and a scratch cwd (config.py's
    import-time side effects); restored afterwards."""
    cuda = torch.Tensor.cuda
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        torch.Tensor.cuda = lambda self, *a, **k: self
        os.chdir(tmp)
        try:
            yield
        finally:
            torch.Tensor.cuda = cuda
            os.chdir(cwd)


def import_ramem(ramem_dir: str):
    """RAMEM's modules (config, yolact, upanets_v2, augmentations)."""
    sys.path.insert(0, osp.abspath(ramem_dir))
    with _ramem_import_stubs():
        import config
        from utils import augmentations
    from modules import upanets_v2, yolact
    return types.SimpleNamespace(
        config=config, yolact=yolact, upanets=upanets_v2, aug=augmentations)


def ramem_cfg(R, name: str, img_size: int):
    """``config.<name>`` in mode 'train', as RAMEM's main.py builds it."""
    args = types.SimpleNamespace(
        mode='train', cuda=False, gpu_id=None, img_size=img_size,
        env_path='./', measure=False, resume=False, train_bs=9, val_num=-1,
        coco_api=False, traditional_nms=False, scaler=False,
        eval_humans=False, show_img=False, save_img=False, show_index=False,
        hide_bbox=False, hide_score=False, hide_mask=False)
    return getattr(R.config, name)(args)


@torch.no_grad()
def randomise(net: nn.Module, gen: torch.Generator) -> None:
    """Non-trivial norm affine/statistics and PReLU slopes (convs keep
    PyTorch's seeded default init)."""

    def u(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)

    for m in net.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            u(m.weight, 0.5, 1.5)
            u(m.bias, -0.3, 0.3)
        if isinstance(m, nn.BatchNorm2d):
            u(m.running_mean, -0.3, 0.3)
            u(m.running_var, 0.5, 2.0)
            m.num_batches_tracked.fill_(1000)
        if isinstance(m, nn.PReLU):
            u(m.weight, 0.05, 0.95)
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            u(m.bias, -0.1, 0.1)


@torch.no_grad()
def round_to_half(net: nn.Module) -> None:
    for t in list(net.parameters()) + list(net.buffers()):
        if t.is_floating_point():
            t.copy_(t.half().float())


def build_small(R, width: int, channels: int, img_size: int):
    """The authors' Yolact (upanet16_meis) with the authors' modules at a
    smaller size."""
    Y = R.yolact
    cfg = ramem_cfg(R, 'upanet16_meis', img_size)
    net = Y.Yolact(cfg)
    net.backbone = R.upanets.UPANets(width, 1)
    net.fpn = Y.FPN(in_channels=(4 * width, 8 * width, 16 * width),
                    out_channels=channels)
    net.proto_net = Y.ProtoNet(coef_dim=32, in_channel=channels)
    net.prediction_layers = Y.PredictionModule(
        cfg, coef_dim=32, in_channel=channels)
    net.semantic_seg_conv = nn.Conv2d(
        channels, cfg.num_classes - 1, kernel_size=1)
    return net, cfg


def test_image(size: int, seed: int) -> np.ndarray:
    """A uint8 BGR image: M-mode-like horizontal bands plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(size)[:, None]
    x = np.arange(size)[None, :]
    bands = 128 + 90 * np.sin(y / 7.0 + 2 * np.sin(x / 11.0))
    img = bands[..., None] + rng.normal(0, 25, (size, size, 3))
    img[..., 0] *= 0.9  # channels differ, so BGR/RGB order matters
    img[..., 2] = np.clip(img[..., 2] + 20, 0, 255)
    return np.clip(img, 0, 255).astype(np.uint8)


@torch.no_grad()
def ramem_outputs(R, net, cfg, image_bgr: np.ndarray) -> dict:
    """RAMEM's normalisation and forward; raw outputs per level."""
    img = R.aug.val_aug(image_bgr, cfg.img_size)  # (3, H, W) float, RGB
    x = torch.from_numpy(np.ascontiguousarray(img)).unsqueeze(0).float()
    levels, fpn = [], {}
    h1 = net.prediction_layers.register_forward_hook(
        lambda m, i, o: levels.append(o))
    h2 = net.fpn.register_forward_hook(lambda m, i, o: fpn.update(out=o))
    try:
        conf, box, coef, proto, _ = net(x)
    finally:
        h1.remove()
        h2.remove()
    seg = net.semantic_seg_conv(fpn['out'][0])
    assert torch.equal(torch.cat([lv[0] for lv in levels], 1), conf)
    return dict(
        input=x,
        outputs=dict(
            conf=[lv[0][0].clone() for lv in levels],
            box=[lv[1][0].clone() for lv in levels],
            coef=[lv[2][0].clone() for lv in levels],
            fpn=[f[0].clone() for f in fpn['out']],
            proto=proto[0].clone(),
            seg=seg[0].clone()))


def anchors_of(net) -> torch.Tensor:
    return torch.tensor(net.anchors, dtype=torch.float64).reshape(-1, 4)


def ramem_commit(ramem_dir: str) -> str:
    try:
        return subprocess.run(['git', '-C', ramem_dir, 'rev-parse', 'HEAD'],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return '7b880cc3012751a889038cd3eaf522642538ecca (archive)'


def make_fixture(args) -> None:
    R = import_ramem(args.ramem_dir)
    torch.manual_seed(args.seed)
    net, cfg = build_small(R, args.width, args.neck_channels, args.size)
    randomise(net, torch.Generator().manual_seed(args.seed + 1))
    round_to_half(net)
    net.eval()
    image = test_image(args.size, args.seed)
    ref = ramem_outputs(R, net, cfg, image)
    state = {
        k: (v.half() if v.is_floating_point() else v.clone())
        for k, v in net.state_dict().items()
    }
    net544 = R.yolact.Yolact(ramem_cfg(R, 'upanet80_meis', 544))
    fixture = dict(
        state_dict=state,
        image_bgr=torch.from_numpy(image),
        input=ref['input'],
        outputs=ref['outputs'],
        anchors=anchors_of(net).float(),
        anchors_544=anchors_of(net544).float(),
        meta=dict(
            ramem_commit=ramem_commit(args.ramem_dir),
            script='tools/model_converters/make_ramem_parity_fixture.py',
            seed=args.seed,
            width=args.width,
            neck_channels=args.neck_channels,
            img_size=args.size,
            cfg=type(cfg).__name__,
            scales=list(cfg.scales),
            num_classes=cfg.num_classes,
            class_names=list(cfg.class_names)))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(fixture, args.out)
    print(f'wrote {args.out} ({osp.getsize(args.out) / 1e6:.2f} MB, '
          f'{sum(v.numel() for v in state.values())} values)')


def check_full(args) -> None:
    """UPANet80 maYOLACT at 544 (``config.upanet80_meis``, the released
    model's architecture): RAMEM's outputs against mmecho's with the
    converted weights, for the ramem-weights config and the base config."""
    sys.path.insert(0, HERE)
    import ramem2mmecho as conv
    R = import_ramem(args.ramem_dir)
    torch.manual_seed(args.seed)
    cfg = ramem_cfg(R, 'upanet80_meis', 544)
    net = R.yolact.Yolact(cfg)
    randomise(net, torch.Generator().manual_seed(args.seed + 1))
    net.eval()
    image = test_image(544, args.seed)
    ref = ramem_outputs(R, net, cfg, image)
    for config in ('mayolact_upanet80_meis_ramem-weights.py',
                   'mayolact_upanet80_meis.py'):
        path = osp.join(ROOT, 'configs', 'meis', config)
        model, target, _ = conv.build_target_state(path)
        sd = conv.convert(net.state_dict(), num_classes=4)
        conv.check_fits(sd, target)
        model.load_state_dict(sd, strict=True)
        model.eval()
        out = conv.mmecho_outputs_in_ramem_layout(model, image)
        print(f'{config}: input max|diff| '
              f'{(out["input"] - ref["input"]).abs().max().item():.3g}')
        for name, diff, mag in compare(out, ref['outputs']):
            print(f'  {name:10s} max|diff| {diff:.3g}  (max|RAMEM| {mag:.3g})')


def compare(out: dict, ref: dict):
    """(name, max |diff|, max |RAMEM|) per output and level."""
    rows = []
    for name in ('fpn', 'conf', 'box', 'coef'):
        for lvl, (a, b) in enumerate(zip(out[name], ref[name])):
            rows.append((f'{name}/P{lvl + 3}', (a - b).abs().max().item(),
                         b.abs().max().item()))
    for name in ('proto', 'seg'):
        rows.append((name, (out[name] - ref[name]).abs().max().item(),
                     ref[name].abs().max().item()))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ramem_dir', help='checkout of RAMEM (commit 7b880cc)')
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--width', type=int, default=8)
    parser.add_argument('--neck-channels', type=int, default=32)
    parser.add_argument('--size', type=int, default=160)
    parser.add_argument(
        '--check-full',
        action='store_true',
        help='compare UPANet80 at 544 with mmecho (prints, writes nothing)')
    args = parser.parse_args()
    if args.check_full:
        check_full(args)
    else:
        make_fixture(args)


if __name__ == '__main__':
    main()
