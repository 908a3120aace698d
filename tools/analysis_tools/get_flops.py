# Copyright (c) mmecho contributors. All rights reserved.
"""FLOPs and parameters of a model's inference forward pass.

    python tools/analysis_tools/get_flops.py CONFIG [--shape 544 544]

Prints parameters (M) and two FLOP counts (G) of backbone + neck + heads
(no post-processing): mmengine's counter (``get_model_complexity_info``,
what mmdet's get_flops reports; it counts one multiply-add as one FLOP)
and torch's ``FlopCounterMode`` (which also sees attention matmuls; its
FLOPs are 2 per multiply-add, printed here as MACs = FLOPs / 2).
"""
import argparse

import torch
from mmengine.analysis import get_model_complexity_info
from torch.utils.flop_counter import FlopCounterMode

from mmecho.apis import forward_network
from mmecho.registry import MODELS
from mmecho.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[544, 544], metavar=('H', 'W'))
    return parser.parse_args()


class InferenceNetwork(torch.nn.Module):
    """The layers an inference pass runs, as one module for the counters."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return forward_network(self.model, x)


def count(config, shape) -> dict:
    register_all_modules()
    cfg = load_config(config, None)
    model = InferenceNetwork(MODELS.build(cfg.model))
    model.eval()
    x = torch.zeros(1, 3, *shape)
    params = sum(p.numel() for p in model.parameters())
    # Autograd on: UPANet's panels then run their layers one by one, as
    # the paper's network does; without it they take the fused inference
    # path (mmecho.models.layers.panel_attention), whose counts differ.
    with torch.enable_grad():
        info = get_model_complexity_info(
            model, inputs=(x, ), show_table=False, show_arch=False)
        counter = FlopCounterMode(display=False)
        with counter:
            model(x)
    return dict(
        params_m=params / 1e6,
        mmengine_gflops=info['flops'] / 1e9,
        torch_gmacs=counter.get_total_flops() / 2e9)


def main():
    args = parse_args()
    r = count(args.config, tuple(args.shape))
    h, w = args.shape
    print(f'config: {args.config}\ninput: 1x3x{h}x{w}')
    print(f'parameters: {r["params_m"]:.3f} M')
    print(f'FLOPs (mmengine counter): {r["mmengine_gflops"]:.2f} G')
    print(f'MACs (torch FlopCounterMode, incl. attention): '
          f'{r["torch_gmacs"]:.2f} G')


if __name__ == '__main__':
    main()
