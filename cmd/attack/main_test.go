package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

// TestNoAttackSucceeds runs every attack against the real program serving
// the demo on a port, as `go run ./cmd/attack` does against a running
// server, and fails on any that gets through.
func TestNoAttackSucceeds(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	base := apptest.Serve(t, a)
	var out bytes.Buffer
	at := &attacker{base: base, victim: "kari.nordmann@example.no", organiser: "arrangor@dfo.example.no",
		admin: "admin@moteplass.example.no", password: "moteplass-demo-2026", flood: 4, out: &out}
	failed := at.run(t.Context())
	t.Log("\n" + out.String())
	if failed > 0 {
		t.Errorf("%d attacks succeeded:\n%s", failed, out.String())
	}
	if strings.Count(out.String(), "PASS") < 10 {
		t.Errorf("fewer than ten attacks were tried:\n%s", out.String())
	}
}
