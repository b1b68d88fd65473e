"""Everything that talks to accounts.spotify.com: `oauth` (the authorization-code flow with
PKCE, token refresh, the offline sample accounts) and `tokens` (the internal endpoint through
which the spotify subgraph gets a user's Spotify access token)."""
