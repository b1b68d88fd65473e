"""Accounts: users, tenants, sessions, API keys, consents, the Spotify account link."""
