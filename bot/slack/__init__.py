"""Slack adapter: bolt app, Block Kit rendering, Socket Mode / HTTP mounting, and the Slack sender."""
