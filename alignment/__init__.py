"""Forced alignment of transcripts to speech: text normalisation, pronunciations, the aligner."""
