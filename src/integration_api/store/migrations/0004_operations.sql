-- Gated rotations (a second person confirms with the new secret) and the embedded Opstage
-- agent's identity (its token sealed by the vault, so a restart needs no new registration).

CREATE TABLE rotations (
    id               uuid PRIMARY KEY,
    organization_id  text NOT NULL,
    project_id       text NOT NULL,
    credential_id    uuid NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    requested_by     text NOT NULL,
    reason           text NOT NULL,
    -- `confirming` while the confirmer's secret is being verified: a second confirmation of the
    -- same rotation finds it taken and is refused (single use).
    state            text NOT NULL CHECK (state IN ('pending', 'confirming', 'confirmed')),
    requested_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    confirmed_by     text NOT NULL DEFAULT '',
    confirmed_at     timestamptz
);

CREATE INDEX rotations_tenant ON rotations (organization_id, project_id, requested_at);

CREATE TABLE opstage_agents (
    code                 text PRIMARY KEY,
    backend_url          text NOT NULL,
    agent_id             text NOT NULL,
    -- The agent token, encrypted by the vault (bound to code and backend).
    sealed_token         bytea NOT NULL,
    -- SHA-256 of the registration token it was obtained with: a new one means re-register.
    registration_digest  text NOT NULL,
    registered_at        timestamptz NOT NULL DEFAULT now()
);
