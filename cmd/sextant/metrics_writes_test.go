package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"sextant/naming"
)

// errWriter fails every Apply with err and answers Owns with owns.
type errWriter struct {
	err  error
	owns bool
}

func (w errWriter) Apply(context.Context, naming.Op) error { return w.err }
func (w errWriter) Owns(naming.ServiceKey) bool            { return w.owns }

func TestCountingWriterCountsByOpAndResult(t *testing.T) {
	m := newWriteMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	cases := []struct {
		err    error
		kind   naming.OpKind
		result string
	}{
		{nil, naming.OpRegister, "ok"},
		{nil, naming.OpRegister, "ok"},
		{naming.Errorf(naming.ErrNotFound, "instance not found"), naming.OpBeat, "not_found"},
		{fmt.Errorf("wrapped: %w", naming.Errorf(naming.ErrUnavailable, "no leader")), naming.OpRegister, "unavailable"},
		{context.DeadlineExceeded, naming.OpDeregister, "timeout"},
		{errors.New("disk full"), naming.OpDeregister, "error"},
		{nil, naming.OpKind(200), "ok"},
	}
	for _, c := range cases {
		w := m.wrap(errWriter{err: c.err, owns: true})
		if err := w.Apply(context.Background(), naming.Op{Kind: c.kind}); !errors.Is(err, c.err) {
			t.Fatalf("the wrapper changed the error: %v", err)
		}
		if !w.Owns(naming.ServiceKey{}) {
			t.Fatal("the wrapper does not pass Owns through")
		}
	}
	s := gathered(t, reg)
	for _, want := range []struct {
		op, result string
		n          float64
	}{
		{"register", "ok", 2}, {"beat", "not_found", 1}, {"register", "unavailable", 1},
		{"deregister", "timeout", 1}, {"deregister", "error", 1}, {"other", "ok", 1},
	} {
		if v := s.must(t, "sextant_writes_total", "op="+want.op, "result="+want.result); v != want.n {
			t.Errorf("writes{op=%s,result=%s} = %v, want %v", want.op, want.result, v, want.n)
		}
	}
	if n := len(s["sextant_writes_total"].Metric); n != 6 {
		t.Errorf("%d series, want 6 (only counts seen are exported)", n)
	}
}
