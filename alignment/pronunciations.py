"""Pronunciations for the aligner: the CMU dictionary pocketsphinx ships, and espeak-ng as an
offline grapheme-to-phoneme fallback for words the dictionary lacks.

espeak-ng speaks IPA (`espeak-ng -q --ipa`); its symbols are mapped to the ARPAbet
phones of the acoustic model. Stress and length marks are dropped.
"""
import functools
import subprocess
from pathlib import Path

# longest symbols first so diphthongs and affricates win over their parts
IPA_TO_ARPABET = {
    "tʃ": "CH", "dʒ": "JH", "eɪ": "EY", "aɪ": "AY", "ɔɪ": "OY", "aʊ": "AW", "oʊ": "OW", "əʊ": "OW",
    "ɑːɹ": "AA R", "ɔːɹ": "AO R", "ɪɹ": "IH R", "ɛɹ": "EH R", "ʊɹ": "UH R", "ɜːɹ": "ER", "əɹ": "ER",
    "iː": "IY", "uː": "UW", "ɑː": "AA", "ɔː": "AO", "ɜː": "ER",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "w": "W", "j": "Y", "ɾ": "T", "ʔ": "T", "x": "K",
    "i": "IY", "ɪ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AA", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO",
    "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER", "ɜ": "ER", "ᵻ": "IH", "o": "OW",
    "y": "UW", "ɬ": "L", "ç": "HH", "ʍ": "W",
}
IGNORED = set("ˈˌː‿-_ ̩̃") | {"\u0329", "\u0303"}


def cmudict_path() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"


@functools.lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    with open(cmudict_path(), encoding="utf-8") as f:
        return frozenset(line.split(maxsplit=1)[0] for line in f if line.strip())


def ipa_to_arpabet(ipa: str) -> list[str]:
    phones, i = [], 0
    symbols = sorted(IPA_TO_ARPABET, key=len, reverse=True)
    while i < len(ipa):
        if ipa[i] in IGNORED:
            i += 1
            continue
        match = next((s for s in symbols if ipa.startswith(s, i)), None)
        if match is None:
            i += 1  # a symbol the acoustic model has no phone for: skipped
            continue
        phones += IPA_TO_ARPABET[match].split()
        i += len(match)
    return phones


def espeak_pronunciation(word: str) -> list[str]:
    """ARPAbet phones for `word` from espeak-ng's letter-to-sound rules; [] if it gives none."""
    result = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "en-us", word], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"espeak-ng failed to pronounce {word!r}: {result.stderr.strip()}")
    return ipa_to_arpabet(result.stdout.strip())
