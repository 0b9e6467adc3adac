"""Spatial logic that is not HTTP: vector tile SQL, import parsers, geometry helpers."""
