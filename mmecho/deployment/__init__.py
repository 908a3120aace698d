# Copyright (c) mmecho contributors. All rights reserved.
"""Deployment: ONNX export of the networks, onnxruntime backends for the
instance (AMEM), segmentation and registration models, and int8 static
quantisation (needs ``onnx`` and ``onnxruntime``:
``pip install -e .[deploy]``)."""
from .onnx_export import (DetectorAdapter, RegistrationAdapter,
                          SegmentorAdapter, default_input_shape, export_onnx,
                          make_adapter, model_kind, onnx_metadata,
                          probe_example, verify_onnx)
from .onnxruntime_backend import (ONNXRuntimeDetector,
                                  ONNXRuntimeInstanceNetwork,
                                  ONNXRuntimeNetwork, ONNXRuntimeSegmentor,
                                  init_onnxruntime_instance_model,
                                  onnx_fields_fn)
from .quantization import calibration_inputs, quantize_onnx

__all__ = [
    'export_onnx', 'verify_onnx', 'make_adapter', 'model_kind',
    'default_input_shape', 'onnx_metadata', 'probe_example',
    'SegmentorAdapter', 'DetectorAdapter', 'RegistrationAdapter',
    'ONNXRuntimeDetector', 'ONNXRuntimeInstanceNetwork',
    'init_onnxruntime_instance_model', 'ONNXRuntimeNetwork',
    'ONNXRuntimeSegmentor', 'onnx_fields_fn', 'quantize_onnx',
    'calibration_inputs'
]
