"""Application services used by both the GUI and the CLI (`Library` is the entry point)."""
