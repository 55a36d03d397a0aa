"""Evaluation: per-image metrics, results files and the Runner-driven loop."""
