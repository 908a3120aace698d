# Copyright (c) mmecho contributors. All rights reserved.
from .instance_inference import inference_instance_model, init_instance_model

__all__ = ['inference_instance_model', 'init_instance_model']
