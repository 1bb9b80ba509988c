"""The JSON API under `/api/`, bearer-token protected."""
