"""Text helpers shared by the engines (the knowledge index and triage's duplicate matching)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A deliberately light English suffix stemmer: "samples"/"sample", "booked"/"book", "dispensing"/"dispense".

    Light on purpose: clinical words and codes must stay recognisable, and a wrong merge of two
    words costs more (a false duplicate, a wrong passage) than a missed one. Words with digits
    or symbols are left alone.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss")):
        if word.endswith(suffix) and len(word) > 4:
            return word[: -len(suffix)] + replacement
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word
