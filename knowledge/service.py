"""Placeholder until the knowledge engine lands (see issue 2)."""
