"""The training library the pipeline's train/evaluate/benchmark stages call into: tasks (loss,
selection, metrics)."""
