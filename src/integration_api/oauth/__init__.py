"""OAuth 2.0 connections: authorization-code flow with PKCE, sealed tokens, refresh, revocation."""
