-- One row for the database's health probe (internal/db/health.go) to
-- write to: a real commit that changes none of the application's data, to
-- find out whether the database can be written at all.
CREATE TABLE health_probe (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	probed_at TIMESTAMP NOT NULL
);
INSERT INTO health_probe (id, probed_at) VALUES (1, CURRENT_TIMESTAMP);
