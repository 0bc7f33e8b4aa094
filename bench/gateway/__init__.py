"""The gateway benchmark: upstream, pass-through, load generator and runner."""
