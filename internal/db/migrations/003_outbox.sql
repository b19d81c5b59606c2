-- The outbox: every email is a row written in the same transaction as the
-- change that causes it, so a crash after the commit cannot lose it and a
-- rollback cannot send it. The worker in mailer/ sends the rows later.
--
-- Status moves queued -> sending -> sent | failed, or queued -> held when no
-- mail server is configured (held rows are queued again once one is). A row
-- left in "sending" by a crash is queued again when claimed_until passes.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	-- what the caller calls this email (registration_confirmed, reminder, ...)
	kind            TEXT NOT NULL,
	to_address      TEXT NOT NULL,
	-- lower-cased, trimmed, as registrations.email_norm: data export and
	-- erasure find a person's mail by it
	to_address_norm TEXT NOT NULL,
	to_name         TEXT NOT NULL DEFAULT '',
	reply_to        TEXT NOT NULL DEFAULT '',
	subject         TEXT NOT NULL,
	text_body       TEXT NOT NULL,
	html_body       TEXT NOT NULL DEFAULT '',
	-- an iCalendar object sent as an iMIP part (RFC 6047) and as invite.ics
	calendar        TEXT NOT NULL DEFAULT '',
	calendar_method TEXT NOT NULL DEFAULT '' CHECK (calendar_method IN ('', 'PUBLISH', 'REQUEST', 'CANCEL')),
	-- the Message-ID header, the same on every attempt so receivers can drop
	-- a copy sent twice after a crash. Enqueue stores the random local part;
	-- the first claim adds the domain of the sender as <local@domain>.
	message_id      TEXT NOT NULL UNIQUE,
	-- set for "send once" mail (reminders): a second row with the same key
	-- is refused. NULLs never collide, in SQLite as in PostgreSQL.
	dedupe_key      TEXT UNIQUE,
	status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'held')),
	-- attempts counts claims, so a message that crashes the sender still
	-- runs out of attempts
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TIMESTAMP NOT NULL,
	-- while status is sending: the worker's lease on the row
	claimed_until   TIMESTAMP,
	-- the mail server's answer or a network error; never our own copy of an
	-- address or name
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TIMESTAMP NOT NULL,
	sent_at         TIMESTAMP
);
-- The worker's claim: status = 'queued' AND next_attempt_at <= now, oldest
-- first.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);
-- Lease recovery (status = 'sending', a handful of rows) and the daily prune
-- (status = 'sent') use the prefix of outbox_due; an index of their own would
-- cost every status change another write.
CREATE INDEX outbox_to ON outbox (to_address_norm);
