package healthcheck

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"sextant/naming"
)

// Each period in which a node judges a service is logged, from its first
// sweep to its last, so a check over several nodes' logs can find moments
// at which two of them judged the same service.
func TestJudgingPeriodsLogged(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.InfoLevel)
	b, err := NewBeatChecker(DefaultConfig(), cat, w, newFakeClock(t0), nil, logrus.NewEntry(log))
	if err != nil {
		t.Fatal(err)
	}
	register(t, cat, svc, "10.14.0.1", true, nil, 0)
	sweep := func(at time.Duration) { b.Sweep(context.Background(), t0.Add(at)) }
	sweep(time.Second)
	sweep(2 * time.Second)
	w.setOwns(func(naming.ServiceKey) bool { return false })
	sweep(3 * time.Second)
	w.setOwns(func(naming.ServiceKey) bool { return true })
	sweep(4 * time.Second)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	type period struct{ msg, from, to, at any }
	var got []period
	for _, e := range hook.AllEntries() {
		if e.Message == "judging starts" || e.Message == "judging stops" {
			got = append(got, period{e.Message, e.Data["from"], e.Data["to"], e.Data["at"]})
		}
	}
	want := []period{
		{"judging starts", nil, nil, ms(time.Second)},
		{"judging stops", ms(time.Second), ms(2 * time.Second), nil},
		{"judging starts", nil, nil, ms(4 * time.Second)},
		{"judging stops", ms(4 * time.Second), ms(4 * time.Second), nil},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
}
