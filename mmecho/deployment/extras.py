# Copyright (c) mmecho contributors. All rights reserved.
"""The optional deployment dependencies (``pip install -e .[deploy]``)."""


def require_deploy_extras() -> None:
    """Import onnx and onnxruntime, or exit with what to install (for the
    command-line tools; the library raises ImportError on use)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise SystemExit(f'error: {e}: install the deployment extras '
                         '(pip install -e ".[deploy]")') from None
