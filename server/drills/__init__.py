"""The drill engine (#19): scenarios, runs with a durable clock, injects, simulated actors, the after-action report."""
