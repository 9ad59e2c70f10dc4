package backendtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The replicas' stdout arrives in pieces that split lines anywhere; the kill waits for
// one whole line.
func TestLineWriter(t *testing.T) {
	t.Parallel()
	lines := make(chan string, 4)
	w := &lineWriter{lines: lines}
	for _, piece := range []string{"addr 127.0.0.1:1", "\nhang", "ing evt_1\nrest"} {
		if n, err := w.Write([]byte(piece)); n != len(piece) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", piece, n, err)
		}
	}
	close(lines)
	var got []string
	for line := range lines {
		got = append(got, line)
	}
	if diff := cmp.Diff([]string{"addr 127.0.0.1:1", "hanging evt_1"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// A test binary not started by MultiProcess runs its tests.
func TestThisReplicaInATestBinary(t *testing.T) {
	t.Setenv(replicaEnv, "")
	if r := ThisReplica(); r != nil {
		t.Errorf("ThisReplica() = %+v, want nil", r)
	}
	t.Setenv(replicaEnv, "2")
	t.Setenv(replicaHangEnv, "3")
	if r := ThisReplica(); r == nil || r.N != 2 || r.hangAt != 3 {
		t.Errorf("ThisReplica() = %+v, want replica 2 hanging at 3", r)
	}
}
