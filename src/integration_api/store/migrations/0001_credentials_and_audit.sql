-- Provider credentials (secret material only as vault ciphertext) and the append-only,
-- hash-chained audit log.

CREATE TABLE credentials (
    id                     uuid PRIMARY KEY,
    organization_id        text NOT NULL,
    project_id             text NOT NULL,
    provider               text NOT NULL,
    name                   text NOT NULL,
    config                 jsonb NOT NULL DEFAULT '{}'::jsonb
                           CHECK (jsonb_typeof(config) = 'object'),
    ciphertext             bytea NOT NULL,
    key_id                 text NOT NULL,
    secret_hint            text NOT NULL DEFAULT '',
    fingerprint            text NOT NULL,
    status                 text NOT NULL
                           CHECK (status IN ('active', 'unverified', 'disabled')),
    status_reason          text NOT NULL DEFAULT '',
    last_check_at          timestamptz,
    last_check_outcome     text CHECK (last_check_outcome IN ('valid', 'invalid', 'unreachable')),
    last_check_latency_ms  integer CHECK (last_check_latency_ms >= 0),
    last_check_message     text NOT NULL DEFAULT '',
    rotated_at             timestamptz,
    rotated_by             text NOT NULL DEFAULT '',
    created_at             timestamptz NOT NULL DEFAULT now(),
    created_by             text NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    version                integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT credentials_name_per_tenant UNIQUE (organization_id, project_id, name),
    CONSTRAINT credentials_check_complete
        CHECK ((last_check_at IS NULL) = (last_check_outcome IS NULL))
);

-- Listing walks a tenant's rows in (created_at, id) order.
CREATE INDEX credentials_tenant_order ON credentials (organization_id, project_id, created_at, id);
-- Key rotation counts and scans rows by the key that encrypted them.
CREATE INDEX credentials_key_id ON credentials (key_id);
CREATE INDEX credentials_fingerprint ON credentials (fingerprint);


CREATE TABLE audit_events (
    id               bigserial PRIMARY KEY,
    occurred_at      timestamptz NOT NULL,
    actor            text NOT NULL,
    organization_id  text NOT NULL,
    project_id       text NOT NULL,
    action           text NOT NULL,
    target_type      text NOT NULL,
    target_id        text NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('success', 'failure')),
    request_id       text NOT NULL DEFAULT '',
    details          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
    -- UNIQUE on prev_hash: no two events can follow the same one, so the chain cannot fork.
    prev_hash        bytea NOT NULL UNIQUE CHECK (length(prev_hash) = 32),
    hash             bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);

CREATE INDEX audit_events_tenant ON audit_events (organization_id, project_id, id);

CREATE FUNCTION audit_events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();
