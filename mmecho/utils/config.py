# Copyright (c) mmecho contributors. All rights reserved.
import os.path as osp
from typing import Optional

from mmengine.config import Config


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Load a config as mmdet's tools do: apply ``--cfg-options``, then use
    ``work_dir`` if given, else the config's own, else
    ``./work_dirs/<config name>``."""
    cfg = Config.fromfile(path)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg
