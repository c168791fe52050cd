package distro

import (
	"context"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// TestWriteToLargeServiceBuildsNoList: the owner's writes (a flip, a
// registration, a deregistration) and a peer's merge leave the service's
// instance list unbuilt, with the DNS front watching, so a change costs
// O(log n) end to end; the next DNS query still answers the new state.
func TestWriteToLargeServiceBuildsNoList(t *testing.T) {
	const size = 100 // several leaves of the instance tree
	e, cat, d, k, iks := largeEngine(t, size)
	unbuilt := func(step string) {
		t.Helper()
		s, ok := cat.View(k)
		if !ok {
			t.Fatalf("%s: service gone", step)
		}
		if s.Instances != nil {
			t.Fatalf("%s: the write path built the list of %d instances", step, len(s.Instances))
		}
	}
	ctx := context.Background()
	unbuilt("load")

	sick := iks[7]
	if err := e.Apply(ctx, naming.Op{Kind: naming.OpSetHealth, Service: k, Ephemeral: true, Target: sick, Healthy: false}); err != nil {
		t.Fatal(err)
	}
	unbuilt("flip")
	if err := e.Apply(ctx, registerOp(k, "10.9.9.9", 80)); err != nil {
		t.Fatal(err)
	}
	unbuilt("register")
	gone := iks[42]
	if err := e.Apply(ctx, deregisterOp(k, gone.IP, gone.Port)); err != nil {
		t.Fatal(err)
	}
	unbuilt("deregister")
	if e.tombs.get(k, gone) == 0 {
		t.Fatal("the deregistration left no tombstone")
	}
	peer := inst(iks[3].IP, 80, 1<<40)
	peer.Weight = 7
	if _, err := e.mergeRecord(Record{Key: k, Instances: []*naming.Instance{peer}}, false); err != nil {
		t.Fatal(err)
	}
	unbuilt("merge")
	if in, _ := cat.Instance(k, iks[3]); in == nil || in.Weight != 7 {
		t.Fatalf("merged instance %+v, want weight 7", in)
	}

	q := new(dns.Msg)
	q.SetQuestion("large.service.nacos.", dns.TypeA)
	r := d.Resolve(q, true)
	if r == nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("query answered %v", r)
	}
	var got []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			got = append(got, a.A.String())
		}
	}
	want := []string{"10.9.9.9"}
	for _, ik := range iks {
		if ik != sick && ik != gone {
			want = append(want, ik.IP)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("DNS answers %d addresses, want %d: the healthy instances after the writes\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
}
