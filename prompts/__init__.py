"""LLM prompts kept as files next to this module, loaded by name.

Prompts are product text reviewed like code; keeping them out of Python makes a wording change a
one-file diff and lets a reviewer read exactly what the model is told.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z]+)?$")


@lru_cache(maxsize=32)
def load(name: str) -> str:
    """The text of prompt `name` (`answer_system` reads `answer_system.md`; an explicit extension is kept)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid prompt name {name!r}: use lower-case letters, digits and underscores")
    file_name = name if "." in name else f"{name}.md"
    path = resources.files(__name__) / file_name
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} (looked for prompts/{file_name})")
    return path.read_text(encoding="utf-8")
