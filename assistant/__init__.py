"""The platform-neutral chat service: an inbound message becomes a scoped, PHI-safe, audited reply."""
