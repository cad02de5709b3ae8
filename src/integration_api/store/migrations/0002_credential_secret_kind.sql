-- Which kind of secret a credential holds (api_key, azure, aws, gcp_service_account): not
-- secret itself, and shown to operators so they know what a rotation must supply.
ALTER TABLE credentials ADD COLUMN secret_kind text NOT NULL DEFAULT '';
