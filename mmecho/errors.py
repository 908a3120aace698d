# Copyright (c) mmecho contributors. All rights reserved.
"""Errors of mmecho that every layer raises (no imports: geometry and
measurement code raise them without loading the dataset stack)."""


class DatasetFormatError(ValueError):
    """A dataset file is missing, unreadable or not in the expected format.

    The message always names the file, the field (when there is one) and what
    was expected, e.g.::

        data/camus/database_nifti/patient0001/Info_2CH.cfg: field 'ES':
        expected an integer frame index, got 'x'
    """

    def __init__(self, path, message: str, field: str = None) -> None:
        self.path = str(path)
        self.field = field
        where = (f'{self.path}: field {field!r}: '
                 if field else f'{self.path}: ')
        super().__init__(where + message)
