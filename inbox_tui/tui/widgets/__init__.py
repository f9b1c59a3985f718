"""The inbox's widgets, one area per module."""
