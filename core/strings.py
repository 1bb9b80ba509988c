"""Text a database can hold: no NUL byte (PostgreSQL refuses it in any text column).

Used as a pydantic validator on the input lines every surface shares (an update, an escalation,
an acknowledgement), so a NUL read from a file (`--body-file`, a replay line) is refused naming
the field, as the HTTP API does for its bodies (siteline/api/nul_bytes.py).
"""

from __future__ import annotations

from typing import Any

NUL_MESSAGE = "contains a NUL byte (\\u0000), which no text field may hold"


def refuse_nul(value: Any) -> Any:
    """A field validator: the value unchanged, or ValueError when a string in it holds NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    return value
