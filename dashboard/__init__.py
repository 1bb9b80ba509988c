"""The sponsor's view: figures per study and site, Site 360, and "protocol unclear" clusters.

Engine-side only (no web or chat imports): `siteline.api.dashboard` serves what this computes.
"""
