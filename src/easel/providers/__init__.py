"""Who serves a model: one module per provider, registered through the `easel.providers` entry points."""
