-- What the embedded Opstage agent last reported for each Capsule service it ever reported.
-- Opstage offers an agent no way to delete a service, so a provider whose last credential is
-- gone is still reported (as having none) for as long as a row here remembers it; and the
-- configs an operator tracks are compared with these values to record each change, with who
-- made it, in the audit trail.

CREATE TABLE opstage_reported_services (
    agent_code      text NOT NULL,
    service_code    text NOT NULL,
    -- The tracked configs as last reported: key -> value.
    configs         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(configs) = 'object'),
    -- Audit events up to this id had been written when those values were read.
    audit_position  bigint NOT NULL DEFAULT 0,
    last_change_at  timestamptz,
    last_change_by  text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_code, service_code)
);
