"""Spatial logic that is not HTTP: the GeoJSON area parser and geometry helpers."""
