"""Datasets the harness trains on and measures against."""
