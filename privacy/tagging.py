"""A part-of-speech stand-in for philter-lite, so it runs without NLTK's downloadable tagger model.

philter-lite calls nltk.pos_tag, whose averaged-perceptron weights come only from NLTK's data hub,
which Siteline may not reach at run time. Philter asks POS two questions: is this token used as a
proper noun (its name lists apply only to NNP tokens, so "will" or "mark" in prose are not names),
and is it a number (CD). This tagger answers both from philter's own lexicon: a word is NNP when it
is Title-case and not an ordinary English or medical word (philter's 195k-word "nonames" list), or
Title-case next to another Title-case word ("Mark Brown"); a lower-case word is NNP only beside
another uncommon lower-case word, because chat is often lower-case ("pt john smith") where a
statistical tagger trained on edited prose would say NN; short all-caps words are acronyms.
"""

from __future__ import annotations

from collections.abc import Sequence


class LexiconTagger:
    """Tags philter-lite's token list (words and whitespace runs) with NNP / CD / NN / SP."""

    def __init__(self, common_words: frozenset[str]) -> None:
        self._common = common_words

    def tag(self, tokens: Sequence[str]) -> list[tuple[str, str]]:
        words = [i for i, t in enumerate(tokens) if t and not t.isspace()]
        tags = ["SP" if (not t or t.isspace()) else "NN" for t in tokens]
        for n, i in enumerate(words):
            tags[i] = self._tag_word(tokens, words, n)
        return list(zip(tokens, tags, strict=True))

    def _tag_word(self, tokens: Sequence[str], words: list[int], n: int) -> str:
        word = tokens[words[n]]
        if word.isdigit():
            return "CD"
        if not any(c.isalpha() for c in word):
            return "NN"
        neighbours = [tokens[words[m]] for m in (n - 1, n + 1) if 0 <= m < len(words)]
        if word.isupper():
            # "MRN", "SAE", "ORION": acronyms, unless a run of capitalised words like "SMITH JOHN"
            return "NNP" if len(word) >= 4 and self._uncommon(word) and any(_is_caps(w) for w in neighbours) else "NN"
        if _is_title(word):
            # a common word written Title-case is a proper noun when a capitalised neighbour backs it up
            # ("Mark Brown", "June Park"), not when it merely starts a sentence ("Mark the AE as resolved")
            return "NNP" if self._uncommon(word) or any(_is_title(w) for w in neighbours) else "NN"
        # lower case: "pt john smith" is a name, "courier the kit" is not
        if self._uncommon(word) and any(self._uncommon(w) and w.islower() for w in neighbours):
            return "NNP"
        return "NN"

    def _uncommon(self, word: str) -> bool:
        return word.lower() not in self._common


def _is_title(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word[1:].islower()


def _is_caps(word: str) -> bool:
    return len(word) >= 3 and word.isalpha() and word.isupper()
