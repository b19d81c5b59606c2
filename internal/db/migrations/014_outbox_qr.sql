-- An email may show a QR code inside its HTML (the check-in code of a
-- confirmation): the text it holds is stored, and the mailer draws the
-- image into the message as an inline part when it sends it, so mail
-- clients that block remote images (Outlook by default) still show it.
ALTER TABLE outbox ADD COLUMN qr_code TEXT NOT NULL DEFAULT '';
