"""Story reconstruction inputs (EmoNet 4.4): timings from text, and the words marked at turns."""
import numpy as np
import pandas as pd
import pytest

from pipeline.story import story_timings, turning_words


def test_timings_are_a_tenth_of_a_second_per_character_with_pauses():
    words = story_timings("But suddenly, 2 dogs!")
    assert list(words.word) == ["but", "suddenly", "two", "dogs"]
    np.testing.assert_allclose(words.start, [0.0, 0.5, 1.5, 2.0])  # 0.3 + 0.2, 0.8 + 0.2, 0.3 + 0.2
    np.testing.assert_allclose(words.end, [0.3, 1.3, 1.8, 2.4])
    with pytest.raises(ValueError, match="no words"):
        story_timings(" ... ")


def test_turning_words_are_the_words_entering_where_valence_moves_most():
    words = pd.DataFrame({"word": ["calm", "day", "but", "terrible", "news"]})
    last = np.array([2, 2, 4, 5])  # window 2 brings 'but terrible', window 3 brings 'news'
    valence = np.array([0.5, 0.5, -0.4, -0.5])
    assert turning_words(words, last, valence, count=2) == [(2, "but terrible"), (3, "news")]
    assert turning_words(words, last, valence, count=1) == [(2, "but terrible")]
