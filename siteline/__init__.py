"""Siteline's composition root: the CLI, the HTTP service and the wiring of engines to storage."""
