"""Importers of the papers' corpora from their distributed layouts into manifest corpora
(pipeline/manifest.py): one module per corpus, each run as `python -m importers.<corpus> SOURCE OUT`."""
