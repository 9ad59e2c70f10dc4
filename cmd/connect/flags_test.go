package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		positional []string
		dest       string
		maps       []string
	}{
		{[]string{"cnst_a"}, []string{"cnst_a"}, "", nil},
		{[]string{"cnst_a", "--destination", "inq_b"}, []string{"cnst_a"}, "inq_b", nil},
		{[]string{"--destination", "inq_b", "cnst_a"}, []string{"cnst_a"}, "inq_b", nil},
		{[]string{"--map", "a=b", "cnst_a", "-map=c=d", "x"}, []string{"cnst_a", "x"}, "", []string{"a=b", "c=d"}},
		{[]string{"cnst_a", "--", "--destination", "inq_b"}, []string{"cnst_a", "--destination", "inq_b"}, "", nil},
		{nil, nil, "", nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		dest := fs.String("destination", "", "")
		var maps stringList
		fs.Var(&maps, "map", "")
		got, err := parseInterleaved(fs, tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !cmp.Equal(got, tc.positional) || *dest != tc.dest || !cmp.Equal([]string(maps), tc.maps) {
			t.Errorf("%q: positional %q, destination %q, maps %q; want %q, %q, %q",
				tc.args, got, *dest, maps, tc.positional, tc.dest, tc.maps)
		}
	}
}

// At a terminal, wait keeps one status line, rewritten with \r, and ends it with a
// newline; elsewhere it writes one plain line per change of status.
func TestProgressRendering(t *testing.T) {
	t.Parallel()
	var tty strings.Builder
	p := &progress{w: &tty, id: "cnst_x", tty: true}
	p.show("pending")
	p.show("pending")
	p.show("redeemed")
	p.finish()
	out := tty.String()
	if strings.Count(out, "\r") != 3 || !strings.HasPrefix(out, "\rshare token cnst_x: pending (") ||
		strings.Index(out, "\n") != len(out)-1 || !strings.Contains(out, "\rshare token cnst_x: redeemed (") {
		t.Errorf("terminal progress = %q", out)
	}

	var plain strings.Builder
	p = &progress{w: &plain, id: "cnst_x"}
	p.show("pending")
	p.show("pending")
	p.show("redeemed")
	p.finish()
	want := "connect: share token cnst_x is pending\nconnect: share token cnst_x is redeemed\n"
	if plain.String() != want {
		t.Errorf("plain progress = %q, want %q", plain.String(), want)
	}
}

// The duration flags of TTLs and windows take days as well as Go's units, since a
// token lives up to 21 days; a bad value says what a good one looks like.
func TestDurationFlagsTakeDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"14d", 14 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"90m", 90 * time.Minute},
		{"336h", 336 * time.Hour},
		{"0", 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		d := durationFlag(fs, "expires-in", 0, "")
		if err := fs.Parse([]string{"--expires-in", tc.in}); err != nil || *d != tc.want {
			t.Errorf("--expires-in %s = %v (%v), want %v", tc.in, *d, err, tc.want)
		}
	}
	for _, bad := range []string{"14 days", "d", "1.5d", "-d", "2w", "65535d1000000h"} { // the last overflows a Duration
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var out strings.Builder
		fs.SetOutput(&out)
		durationFlag(fs, "expires-in", 0, "")
		if err := fs.Parse([]string{"--expires-in", bad}); err == nil || !strings.Contains(err.Error(), "a duration such as 14d, 36h or 90m") {
			t.Errorf("--expires-in %q: err %v, want one that shows a good value", bad, err)
		}
	}
}
