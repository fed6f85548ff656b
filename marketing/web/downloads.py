"""CSV downloads for every page: one place that names the file and neutralises spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

from marketing.clock import today

_STREAM_CHUNK_ROWS = 2000


def cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_response(name: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download named `<name>-<today>.csv`, built in memory (page-sized tables)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv", headers=_attachment(f"{name}-{today().isoformat()}.csv"))


def csv_stream(filename: str, header: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download written as it is read, so a large export never sits in memory."""

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for count, row in enumerate(rows, 1):
            writer.writerow([cell(v) for v in row])
            if count % _STREAM_CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(chunks()), mimetype="text/csv", headers=_attachment(filename))
