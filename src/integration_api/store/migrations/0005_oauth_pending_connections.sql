-- Binding an OAuth flow to the user who started it: the state remembers that user, and a
-- callback no longer makes a connection usable. It parks the exchanged tokens here until the
-- platform, from that user's session, presents the one-time completion code the browser was
-- sent back with.

-- The end user the platform named (or the token carried) at StartAuthorization; '' when none.
ALTER TABLE oauth_states ADD COLUMN user_id text NOT NULL DEFAULT '';

-- One row per consented flow not yet completed. Only a hash of the completion code is stored;
-- the tokens are vault ciphertext bound to the tenant, that hash and the provider.
CREATE TABLE oauth_pending_connections (
    code_hash                 bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    organization_id           text NOT NULL,
    project_id                text NOT NULL,
    user_id                   text NOT NULL DEFAULT '',
    actor                     text NOT NULL,
    provider                  text NOT NULL,
    connection_name           text NOT NULL,
    account_id                text NOT NULL,
    account_email             text NOT NULL DEFAULT '',
    scopes                    text[] NOT NULL,
    token_ciphertext          bytea NOT NULL,
    key_id                    text NOT NULL,
    token_type                text NOT NULL DEFAULT 'Bearer',
    has_refresh_token         boolean NOT NULL DEFAULT false,
    access_token_expires_at   timestamptz,
    refresh_token_expires_at  timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    expires_at                timestamptz NOT NULL
);

CREATE INDEX oauth_pending_connections_expiry ON oauth_pending_connections (expires_at);
