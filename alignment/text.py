"""Transcript normalisation for the aligner: lowercase words, numbers spelled out, no punctuation."""
import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"), (100, "hundred"))


def number_to_words(n: int) -> list[str]:
    """Cardinal number in words: 2024 -> ['two', 'thousand', 'twenty', 'four']."""
    if n < 0:
        return ["minus", *number_to_words(-n)]
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    for value, name in _SCALES:
        if n >= value:
            rest = number_to_words(n % value) if n % value else []
            return [*number_to_words(n // value), name, *rest]
    raise AssertionError("unreachable")


def normalise_transcript(text: str) -> list[str]:
    """Words as the aligner's dictionary spells them. Digits become words (decimals digit by
    digit after 'point'), hyphens and slashes split words, other punctuation is dropped;
    apostrophes inside words stay (don't, we're)."""
    words: list[str] = []
    for token in re.split(r"[\s\-/]+", text.lower()):
        for number, word in re.findall(r"(\d+(?:\.\d+)?)|([a-z]+(?:'[a-z]+)*)", token):
            if word:
                words.append(word)
            elif "." in number:
                whole, frac = number.split(".")
                words += [*number_to_words(int(whole)), "point", *(_ONES[int(d)] for d in frac)]
            else:
                words += number_to_words(int(number))
    return words
