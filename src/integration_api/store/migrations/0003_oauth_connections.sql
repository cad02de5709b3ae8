-- OAuth 2.0 connections (tokens only as vault ciphertext) and the pending authorizations that
-- lead to them.

-- One row per authorization in progress. Only a hash of `state` is stored, so the table cannot
-- be used to finish someone else's flow; the PKCE verifier is vault ciphertext bound to it.
CREATE TABLE oauth_states (
    state_hash             bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    organization_id        text NOT NULL,
    project_id             text NOT NULL,
    actor                  text NOT NULL,
    provider               text NOT NULL,
    connection_name        text NOT NULL,
    scopes                 text[] NOT NULL,
    redirect_after         text NOT NULL DEFAULT '',
    verifier_ciphertext    bytea NOT NULL,
    key_id                 text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    expires_at             timestamptz NOT NULL
);

CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE oauth_connections (
    id                        uuid PRIMARY KEY,
    organization_id           text NOT NULL,
    project_id                text NOT NULL,
    provider                  text NOT NULL,
    name                      text NOT NULL,
    account_id                text NOT NULL,
    account_email             text NOT NULL DEFAULT '',
    scopes                    text[] NOT NULL,
    status                    text NOT NULL
                              CHECK (status IN ('active', 'reauthorization_required', 'revoked')),
    status_reason             text NOT NULL DEFAULT '',
    -- Access and refresh token sealed together; NULL once the connection is revoked.
    token_ciphertext          bytea,
    key_id                    text,
    token_type                text NOT NULL DEFAULT 'Bearer',
    has_refresh_token         boolean NOT NULL DEFAULT false,
    -- NULL: the access token does not expire (GitHub OAuth Apps).
    access_token_expires_at   timestamptz,
    refresh_token_expires_at  timestamptz,
    last_refreshed_at         timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    created_by                text NOT NULL,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    version                   integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT oauth_connections_name_per_tenant
        UNIQUE (organization_id, project_id, provider, name),
    CONSTRAINT oauth_connections_tokens_with_key CHECK ((token_ciphertext IS NULL) = (key_id IS NULL))
);

CREATE INDEX oauth_connections_tenant_order
    ON oauth_connections (organization_id, project_id, created_at, id);
-- The keep-alive refresher looks for active connections refreshed longest ago.
CREATE INDEX oauth_connections_refresh_due
    ON oauth_connections (last_refreshed_at) WHERE status = 'active' AND has_refresh_token;
CREATE INDEX oauth_connections_key_id ON oauth_connections (key_id);
