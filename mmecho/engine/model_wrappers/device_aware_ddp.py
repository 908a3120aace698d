# Copyright (c) mmecho contributors. All rights reserved.
from mmengine.model import MMDistributedDataParallel

from mmecho.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps CPU modules.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]`` to a DDP
    wrapper; :class:`torch.nn.parallel.DistributedDataParallel` rejects
    ``device_ids`` for a module whose parameters live on the CPU. This wrapper
    drops ``device_ids`` (and ``output_device``) when the module is on the
    CPU and passes them on unchanged otherwise, so one config trains on
    torchrun with gloo on CPUs and with nccl on GPUs.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        param = next(module.parameters(), None)
        if param is None or param.device.type == 'cpu':
            device_ids = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, device_ids=device_ids, **kwargs)
