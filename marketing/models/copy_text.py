"""PostgreSQL COPY's text format as our bulk writers send it (the ingest's `sync.rows.FastMapper`, the bid run's
`bids.suggest._write`): one rule for what stands for null and which characters need escaping."""

import re

NULL = "\\N"
SPECIAL = re.compile(r"[\\\t\n\r]")  # characters the format needs escaped
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first


def escape(text: str) -> str:
    """`text` as a COPY text field."""
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text
