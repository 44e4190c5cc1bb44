"""A fills export uploaded from a page (SPEC 5.7): the candidates page and the report's PDC.

One reading for both, so a file one page accepts the other accepts too: at most 20 MB, UTF-8
(the first bad byte named by line), then planning/fills.py's rules, row by row.
"""

from __future__ import annotations

import io
from typing import IO

from planning.fills import group_by_patient, read_fills
from planning.pdc import Fill
from store.importer import check_utf8

MAX_FILLS_UPLOAD = 20 * 1024 * 1024


def read_fills_upload(stream: IO[bytes]) -> tuple[dict[str, list[Fill]], list[tuple[int, str]]]:
    """The upload's fills by patient, and the rejected rows as (row number, reason).

    Raises ValueError (ImportFileError, FillsFileError) when the file as a whole is refused.
    """
    data = stream.read(MAX_FILLS_UPLOAD + 1)
    if len(data) > MAX_FILLS_UPLOAD:
        raise ValueError("the file is larger than 20 MB; use `flask candidates` for big exports")
    check_utf8(io.BytesIO(data))
    rejected: list[tuple[int, str]] = []
    lines = io.StringIO(data.decode("utf-8"), newline="")
    groups = group_by_patient(read_fills(lines, lambda row, why: rejected.append((row, why))))
    return groups, rejected
