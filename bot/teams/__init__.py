"""Microsoft Teams adapter (Microsoft 365 Agents SDK): Activity translation, Adaptive Cards, card
actions, `POST /api/messages` on `siteline serve`, and the Teams sender of the Notifier."""
