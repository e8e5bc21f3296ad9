"""Word counts over the train split's transcripts: what the text extractors fit their vocabulary on."""
from features.session_words import aligned_words


def train_word_counts(train_sessions) -> dict[str, int]:
    """How often each word occurs in the aligned transcripts of the given (train) sessions."""
    counts: dict[str, int] = {}
    for session in train_sessions:
        for word in aligned_words(session).word:
            counts[word] = counts.get(word, 0) + 1
    return counts
