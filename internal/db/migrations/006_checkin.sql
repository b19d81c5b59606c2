-- Check-in codes (registration/checkin.go). The QR code in a confirmation
-- email and on the manage page opens the person's check-in entry for staff
-- who are logged in: /admin/checkin/{code}. The code is random (128 bits,
-- base64url), made the first time it is needed, and says nothing by itself:
-- it is not the registration's id, so entries cannot be guessed in turn.
-- Erasure and retention set it back to NULL with the rest of the person's data.
ALTER TABLE registrations ADD COLUMN checkin_code TEXT;
CREATE UNIQUE INDEX registrations_checkin_code ON registrations (checkin_code) WHERE checkin_code IS NOT NULL;
