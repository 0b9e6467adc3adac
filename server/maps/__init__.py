"""The maps: their configuration for the PWA (`config.py`) and the vector tiles (`tiles/`)."""
