"""Local diffusers pipeline: direct vs through easel (see RESULTS.md)."""
