# Copyright (c) mmecho contributors. All rights reserved.
"""mmecho: an OpenMMLab toolbox for echocardiography."""
from .engine.checkpoint import install_checkpoint_loader
from .version import __version__, version_info

# torch>=2.6 + mmengine 0.10.7: make local checkpoints loadable (resume).
install_checkpoint_loader()

__all__ = ['__version__', 'version_info']
