"""Generator of the synthetic default corpus."""
