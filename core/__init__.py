"""Siteline's small core: settings, clock, storage, directory, audit trail and delivery seams.

The engines (knowledge, triage, escalation) stand on this package; it never imports them,
nor any chat platform SDK.
"""
