package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunSmall runs the whole tool with a tiny load: both servers start,
// every target answers 200 and the table has a row for each. It asserts
// nothing about speed.
func TestRunSmall(t *testing.T) {
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"-n", "60", "-c", "3", "-warmup", "5", "-rounds", "2"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"bare Gin, static 2 KB", "bare Gin, static ", "/events/regional-topplederkonferanse-trondheim", "vs bare 2 KB", "the event page runs at"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-c", "-1"}, {"-rounds", "0"}, {"-nope"}} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestRunUnknownSlug(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"-n", "10", "-slug", "finnes-ikke"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "404") {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}

func TestHTMLPageSize(t *testing.T) {
	for _, n := range []int{2048, 16133, 128} {
		if got := len(htmlPage(n)); got != n {
			t.Errorf("htmlPage(%d) is %d bytes", n, got)
		}
	}
}
