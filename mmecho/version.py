# Copyright (c) mmecho contributors. All rights reserved.
__version__ = '0.5.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse ``'0.1.0'`` into ``(0, 1, 0)``; pre-release tags are kept as
    strings, e.g. ``'0.2.0rc1'`` -> ``(0, 2, 0, 'rc1')``."""
    parts = []
    for x in version_str.split('.'):
        if x.isdigit():
            parts.append(int(x))
        else:
            num = ''.join(c for c in x if c.isdigit())
            parts.append(int(num) if num else 0)
            parts.append(x[len(num):])
    return tuple(parts)


version_info = parse_version_info(__version__)
