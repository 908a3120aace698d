# Copyright (c) mmecho contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmdet, mmseg and mmecho so that every component is registered.

    Args:
        init_default_scope (bool): Also make ``'mmecho'`` the current default
            scope, so ``Registry.build`` looks up mmecho, then mmdet and
            mmengine, then mmseg. Defaults to True.
    """
    import mmdet.datasets  # noqa: F401
    import mmdet.engine  # noqa: F401
    import mmdet.evaluation  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmdet.visualization  # noqa: F401
    import mmseg.datasets  # noqa: F401
    import mmseg.engine  # noqa: F401
    import mmseg.evaluation  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmseg.visualization  # noqa: F401

    import mmecho.datasets  # noqa: F401
    import mmecho.engine  # noqa: F401
    import mmecho.engine.hooks  # noqa: F401
    import mmecho.engine.model_wrappers  # noqa: F401
    import mmecho.evaluation  # noqa: F401
    import mmecho.models  # noqa: F401
    import mmecho.visualization  # noqa: F401

    if not init_default_scope:
        return
    never_created = (
        DefaultScope.get_current_instance() is None
        or not DefaultScope.check_instance_created('mmecho'))
    if never_created:
        DefaultScope.get_instance('mmecho', scope_name='mmecho')
        return
    current = DefaultScope.get_current_instance()
    if current.scope_name != 'mmecho':
        warnings.warn('The current default scope '
                      f'"{current.scope_name}" is not "mmecho"; '
                      '`register_all_modules` forces it to "mmecho".')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'mmecho-{stamp}', scope_name='mmecho')
