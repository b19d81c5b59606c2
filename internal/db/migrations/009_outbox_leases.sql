-- Claims on outbox rows name their holder and are renewed while it lives
-- (mailer.Worker). claimed_by is the claim's token: the worker's random
-- identity and the number of the claim. A live worker extends
-- claimed_until every third of its lease, and only where the row still
-- carries its token (status = 'sending' AND claimed_by = the token), so the
-- lease can be short (under a minute): a restarted process sends what a
-- killed one left "sending" within about a minute, and two live workers
-- still never send one message twice. Rows claimed by an older version
-- have no token and simply run out.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

-- The worker deletes a row with delete_when_sent = 1 in the transaction
-- that records it sent (or failed for good), then empties the write-ahead
-- log: for mail that must not be kept once it is out. The outbox knows
-- nothing of why; registration sets it on the confirmation of an erasure,
-- the last place the erased address is stored.
ALTER TABLE outbox ADD COLUMN delete_when_sent INTEGER NOT NULL DEFAULT 0 CHECK (delete_when_sent IN (0, 1));

-- Databases from before: a job deleted sent erasure confirmations every few
-- minutes. The ones not yet sent get the flag; the ones sent or failed
-- since the job last ran go now.
UPDATE outbox SET delete_when_sent = 1 WHERE kind = 'data_erased';
DELETE FROM outbox WHERE kind = 'data_erased' AND status IN ('sent', 'failed');
