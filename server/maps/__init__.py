"""Map configuration for the PWA (base map, our vector tile layers)."""
