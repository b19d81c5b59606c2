// Package secret makes the random tokens in links and cookies (manage links,
// sessions, password resets, introductions) and the hashes that are stored
// in their place, so a copy of the database opens no one's registration.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Bytes is a token's size: 256 bits from crypto/rand, 43 URL-safe characters.
const Bytes = 32

// New returns a fresh random token and its hash (what is stored).
func New() (raw, hash string) {
	raw = base64.RawURLEncoding.EncodeToString(Random(Bytes))
	return raw, Hash(raw)
}

// Random returns n bytes from crypto/rand. Without randomness nothing here
// can be made safe, so it panics (crypto/rand does not fail on Linux).
func Random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("secret: no randomness: " + err.Error())
	}
	return b
}

// Hash is what is stored for a raw token: hex SHA-256. Tokens carry 256
// bits of randomness, so a plain hash (no salt, no stretching) is enough.
func Hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// WellFormed rejects what cannot be a token before the database is asked.
func WellFormed(raw string) bool {
	if len(raw) != base64.RawURLEncoding.EncodedLen(Bytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(raw)
	return err == nil
}
