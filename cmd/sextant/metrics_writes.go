package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"sextant/naming"
)

// Results a write is counted under.
var writeResults = [...]string{"ok", "invalid", "not_found", "conflict", "forbidden", "unavailable", "too_large", "timeout", "error"}

// maxOpKinds bounds the op kinds counted by kind; a larger kind is counted
// as kind 0 ("other").
const maxOpKinds = 64

// writeMetrics counts the writes the HTTP API hands to the node's writer,
// by op kind and result, in fixed arrays: counting is one atomic add. A
// write forwarded to another node is counted once, where it arrived.
type writeMetrics struct {
	n    [maxOpKinds][len(writeResults)]atomic.Uint64
	desc *prometheus.Desc
}

func newWriteMetrics() *writeMetrics {
	return &writeMetrics{desc: prometheus.NewDesc("sextant_writes_total",
		"Writes received through the HTTP API, by op (register, deregister, beat, ...) and result "+
			"(ok, invalid, not_found, conflict, forbidden, unavailable, too_large, timeout, error). "+
			"Beats are op=\"beat\"; a beat with not_found makes the client register again.",
		[]string{"op", "result"}, nil)}
}

func resultSlot(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, naming.ErrInvalid):
		return 1
	case errors.Is(err, naming.ErrNotFound):
		return 2
	case errors.Is(err, naming.ErrConflict):
		return 3
	case errors.Is(err, naming.ErrForbidden):
		return 4
	case errors.Is(err, naming.ErrUnavailable):
		return 5
	case errors.Is(err, naming.ErrTooLarge):
		return 6
	case errors.Is(err, context.DeadlineExceeded):
		return 7
	}
	return 8
}

func (m *writeMetrics) count(kind naming.OpKind, err error) {
	k := int(kind)
	if k >= maxOpKinds {
		k = 0
	}
	m.n[k][resultSlot(err)].Add(1)
}

// wrap returns w counting every Apply.
func (m *writeMetrics) wrap(w owningWriter) owningWriter { return countingWriter{w: w, m: m} }

func (m *writeMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.desc }

func (m *writeMetrics) Collect(ch chan<- prometheus.Metric) {
	e := emitter(ch)
	for k := range m.n {
		for r := range m.n[k] {
			if v := m.n[k][r].Load(); v > 0 {
				name := "other"
				if k > 0 {
					name = naming.OpKind(k).String()
				}
				e.counter(m.desc, v, name, writeResults[r])
			}
		}
	}
}

// owningWriter is the consensus router as the health checkers and the HTTP
// front take it: a naming.Writer that also says which services this node
// is responsible for.
type owningWriter interface {
	naming.Writer
	Owns(key naming.ServiceKey) bool
}

// countingWriter is an owningWriter that counts what passes through it.
type countingWriter struct {
	w owningWriter
	m *writeMetrics
}

func (c countingWriter) Apply(ctx context.Context, op naming.Op) error {
	err := c.w.Apply(ctx, op)
	c.m.count(op.Kind, err)
	return err
}

func (c countingWriter) Owns(key naming.ServiceKey) bool { return c.w.Owns(key) }
