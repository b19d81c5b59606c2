-- The background jobs (internal/app/jobs.go): reminders, introductions,
-- retention. Each runs on one instance at a time, however many serve the
-- database: an instance runs a job only after claiming its row here (a
-- lease, so a job whose instance died is taken over when the lease runs
-- out), and only when its interval has passed since the last run done,
-- so an instance that dies does not make a run be skipped.
CREATE TABLE jobs (
	name        TEXT PRIMARY KEY,
	-- the instance running it now, and until when it may
	holder      TEXT NOT NULL DEFAULT '',
	lease_until TIMESTAMP,
	-- when the last run ended well
	done_at     TIMESTAMP
);
