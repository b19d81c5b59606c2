-- 010_capabilities.sql for PostgreSQL (see there for what and why): the
-- same columns; consents.kind gains 'health' by replacing its CHECK
-- constraint, which PostgreSQL can do in place where SQLite rebuilds the
-- table.
ALTER TABLE manage_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'mail' CHECK (scope IN ('mail', 'page'));

ALTER TABLE registrations ADD COLUMN health_consent BIGINT NOT NULL DEFAULT 0;
UPDATE registrations SET health_consent = 1 WHERE dietary <> '' OR accessibility <> '';
ALTER TABLE registrations ADD COLUMN needs_removed_at TIMESTAMPTZ;

ALTER TABLE consents DROP CONSTRAINT consents_kind_check;
ALTER TABLE consents ADD CONSTRAINT consents_kind_check CHECK (kind IN ('introductions', 'health'));
