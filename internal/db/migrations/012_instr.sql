-- instr(haystack, needle): the position of needle in haystack, 0 when it is
-- not there. SQLite has it built in; PostgreSQL gets it in
-- 012_instr.postgres.sql, so the outbox search (mailer/forget.go) is one
-- SQL for both.
SELECT 1;
