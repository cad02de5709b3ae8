-- The usage ledger: one row per provider call, its hourly sums, the price table and budgets.

-- One row per call (each attempt of a route is a call). Written in batches, never updated.
-- Partitioned by month of `occurred_at` (the call's start): a month's records are dropped as a
-- whole once past retention, and a query over a range touches only its months. The service
-- keeps partitions created ahead of time; the default partition only catches a row whose month
-- has none (a clock far off), so no write is ever refused.
CREATE TABLE usage_records (
    occurred_at               timestamptz NOT NULL,
    id                        uuid NOT NULL,
    organization_id           text NOT NULL,
    project_id                text NOT NULL,
    -- Empty when the call was refused before a credential was known.
    credential_id             text NOT NULL DEFAULT '',
    route_id                  text NOT NULL DEFAULT '',
    -- The target's position in its route (0 first); NULL without a route.
    route_target              smallint,
    provider                  text NOT NULL,
    model                     text NOT NULL DEFAULT '',
    voice                     text NOT NULL DEFAULT '',
    operation                 text NOT NULL,
    outcome                   text NOT NULL,
    -- NULL: not reported by the provider (never 0 for "unknown").
    input_tokens              bigint,
    cached_input_tokens       bigint,
    cache_write_input_tokens  bigint,
    output_tokens             bigint,
    reasoning_tokens          bigint,
    audio_seconds_in          double precision,
    audio_seconds_out         double precision,
    characters                bigint,
    search_units              bigint,
    duration_seconds          double precision NOT NULL,
    provider_request_id       text NOT NULL DEFAULT '',
    -- Micro-dollars, exact; computed once, when written, with the price in force at
    -- `occurred_at` (`price_id`, NULL when none was).
    cost_micros               numeric(24, 6) NOT NULL DEFAULT 0,
    price_id                  bigint,
    -- Something billable was used while no price was in force.
    unpriced                  boolean NOT NULL DEFAULT false,
    recorded_at               timestamptz NOT NULL DEFAULT now(),
    -- A batch written again after a lost acknowledgement finds its rows and adds nothing.
    PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT;

-- A tenant's export walks its records by time.
CREATE INDEX usage_records_tenant_time
    ON usage_records (organization_id, project_id, occurred_at);

-- This month's partition and the next two; the service creates later ones ahead of need.
DO $$
DECLARE
    first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    month_start date;
BEGIN
    FOR offset_months IN 0..2 LOOP
        month_start := (first_month + make_interval(months => offset_months))::date;
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF usage_records
                 FOR VALUES FROM (%L) TO (%L)',
            'usage_records_' || to_char(month_start, 'YYYY_MM'),
            month_start::timestamp AT TIME ZONE 'UTC',
            (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        );
    END LOOP;
END
$$;

-- The records summed per UTC hour and key, in the same transaction that writes them: GetUsage
-- and budgets read these, and the raw records only for the parts of a range that are not whole
-- hours. Kept after the raw records' retention.
CREATE TABLE usage_hourly (
    hour                      timestamptz NOT NULL,
    organization_id           text NOT NULL,
    project_id                text NOT NULL,
    credential_id             text NOT NULL,
    route_id                  text NOT NULL,
    provider                  text NOT NULL,
    model                     text NOT NULL,
    operation                 text NOT NULL,
    calls                     bigint NOT NULL DEFAULT 0,
    failed_calls              bigint NOT NULL DEFAULT 0,
    unpriced_calls            bigint NOT NULL DEFAULT 0,
    input_tokens              bigint NOT NULL DEFAULT 0,
    cached_input_tokens       bigint NOT NULL DEFAULT 0,
    cache_write_input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens             bigint NOT NULL DEFAULT 0,
    reasoning_tokens          bigint NOT NULL DEFAULT 0,
    audio_seconds_in          double precision NOT NULL DEFAULT 0,
    audio_seconds_out         double precision NOT NULL DEFAULT 0,
    characters                bigint NOT NULL DEFAULT 0,
    search_units              bigint NOT NULL DEFAULT 0,
    duration_seconds          double precision NOT NULL DEFAULT 0,
    cost_micros               numeric(24, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, organization_id, project_id, credential_id, route_id, provider, model,
                 operation)
);

CREATE INDEX usage_hourly_tenant ON usage_hourly (organization_id, project_id, hour);

-- Prices: one row per version of a provider's model; rows are only ever added.
CREATE TABLE usage_prices (
    id                              bigserial PRIMARY KEY,
    provider                        text NOT NULL,
    -- A model, a model family (prefix before '-'), or '*'.
    model                           text NOT NULL,
    version                         integer NOT NULL CHECK (version >= 1),
    effective_from                  timestamptz NOT NULL,
    -- US dollars; NULL: the unit is not billed (cached / cache-write fall back to input,
    -- reasoning to output).
    usd_per_million_input_tokens             numeric(20, 10),
    usd_per_million_cached_input_tokens      numeric(20, 10),
    usd_per_million_cache_write_input_tokens numeric(20, 10),
    usd_per_million_output_tokens            numeric(20, 10),
    usd_per_million_reasoning_tokens         numeric(20, 10),
    usd_per_audio_minute_in                  numeric(20, 10),
    usd_per_audio_minute_out                 numeric(20, 10),
    usd_per_million_characters               numeric(20, 10),
    usd_per_thousand_search_units            numeric(20, 10),
    source                          text NOT NULL CHECK (source IN ('default', 'operator')),
    set_by                          text NOT NULL,
    set_at                          timestamptz NOT NULL DEFAULT now(),
    note                            text NOT NULL DEFAULT '',
    CONSTRAINT usage_prices_version UNIQUE (provider, model, version)
);

CREATE INDEX usage_prices_in_force ON usage_prices (provider, model, effective_from);

-- Monthly budgets of a tenant ('' credential) or of one of its credentials.
CREATE TABLE usage_budgets (
    id                    uuid PRIMARY KEY,
    organization_id       text NOT NULL,
    project_id            text NOT NULL,
    credential_id         text NOT NULL DEFAULT '',
    unit                  text NOT NULL CHECK (unit IN ('micro_usd', 'tokens')),
    soft_limit            bigint CHECK (soft_limit > 0),
    hard_limit            bigint CHECK (hard_limit > 0),
    -- The first day of the month whose soft / hard crossing has been announced, so each is
    -- announced once per month by one replica.
    soft_announced_month  date,
    hard_announced_month  date,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT usage_budgets_limits CHECK (
        (soft_limit IS NOT NULL OR hard_limit IS NOT NULL)
        AND (soft_limit IS NULL OR hard_limit IS NULL OR soft_limit <= hard_limit)
    ),
    CONSTRAINT usage_budgets_scope UNIQUE (organization_id, project_id, credential_id)
);
