# Copyright (c) mmecho contributors. All rights reserved.
from .atomic_io import atomic_write, atomic_write_text
from .config import apply_data_root, build_model_from_config, load_config
from .model_stats import count_params
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'load_config', 'apply_data_root',
    'build_model_from_config', 'atomic_write',
    'atomic_write_text', 'count_params'
]
