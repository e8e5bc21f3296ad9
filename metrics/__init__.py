"""Evaluation metrics, each defined once and shared by data checks, training and evaluation."""
