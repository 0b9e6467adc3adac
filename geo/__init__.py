"""Spatial logic that is not HTTP: import parsers, geometry helpers."""
