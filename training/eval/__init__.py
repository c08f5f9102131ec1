"""Evaluation of face-embedding models on the LFW protocols (parsing, metrics, plots, reports)."""
