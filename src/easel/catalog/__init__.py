"""The model catalog: entries, aliases and resolve() with "did you mean"."""
