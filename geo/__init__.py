"""Spatial logic that is not HTTP: the vector tile SQL and the GeoJSON area parser."""
