package distro

import (
	"maps"
	"math/rand"
	"slices"
	"testing"

	"sextant/naming"
)

func tomb(ip string, port int, at int64) Tombstone {
	return Tombstone{Instance: naming.InstanceKey{IP: ip, Port: port, Cluster: naming.DefaultCluster}, Time: at}
}

// summary renders a record for comparisons: "ip:port@time" for instances,
// "-ip:port@time" for tombstones.
func summary(r Record) []string {
	var out []string
	for _, in := range r.Instances {
		out = append(out, in.Key().Addr()+"@"+itoa(in.Updated)+"w"+itoa(int64(in.Weight)))
	}
	for _, t := range r.Tombstones {
		out = append(out, "-"+t.Instance.Addr()+"@"+itoa(t.Time))
	}
	return out
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestMergeTable(t *testing.T) {
	k := svc("s")
	heavy := inst("10.0.0.1", 80, 5)
	heavy.Weight = 9
	cases := []struct {
		name string
		a, b Record
		want []string
	}{
		{"disjoint instances join",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 1)}},
			Record{Instances: []*naming.Instance{inst("10.0.0.2", 80, 2)}},
			[]string{"10.0.0.1:80@1w1", "10.0.0.2:80@2w1"}},
		{"newer instance wins",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 1)}},
			Record{Instances: []*naming.Instance{heavy}},
			[]string{"10.0.0.1:80@5w9"}},
		{"newer tombstone removes",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 4)}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 5)}},
			[]string{"-10.0.0.1:80@5"}},
		{"re-registration after the tombstone survives",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 6)}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 5)}},
			[]string{"10.0.0.1:80@6w1"}},
		{"tombstone wins a tie",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 5)}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 5)}},
			[]string{"-10.0.0.1:80@5"}},
		{"equal times order by content",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 5)}},
			Record{Instances: []*naming.Instance{heavy}},
			[]string{"10.0.0.1:80@5w9"}},
		{"later tombstone kept",
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 3)}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 7)}},
			[]string{"-10.0.0.1:80@7"}},
		{"a beat mark after the tombstone keeps the instance",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 2)}, Beats: []BeatMark{{Instance: tomb("10.0.0.1", 80, 0).Instance, Time: 9}}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 5)}},
			[]string{"10.0.0.1:80@2w1"}},
		{"a beat mark before the tombstone does not",
			Record{Instances: []*naming.Instance{inst("10.0.0.1", 80, 2)}, Beats: []BeatMark{{Instance: tomb("10.0.0.1", 80, 0).Instance, Time: 4}}},
			Record{Tombstones: []Tombstone{tomb("10.0.0.1", 80, 5)}},
			[]string{"-10.0.0.1:80@5"}},
		{"empty with empty", Record{}, Record{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.a.Key, c.b.Key = k, k
			for _, pair := range [][2]Record{{c.a, c.b}, {c.b, c.a}} {
				got := Merge(pair[0], pair[1])
				if !slices.Equal(summary(got), c.want) {
					t.Fatalf("got %v, want %v", summary(got), c.want)
				}
				if got.Key != k {
					t.Fatalf("key %v", got.Key)
				}
			}
		})
	}
}

func TestPrune(t *testing.T) {
	r := Record{Key: svc("s"), Tombstones: []Tombstone{tomb("10.0.0.1", 1, 10), tomb("10.0.0.2", 1, 20)}}
	if got := summary(prune(r, 15)); !slices.Equal(got, []string{"-10.0.0.2:1@20"}) {
		t.Fatalf("pruned %v", got)
	}
	if len(r.Tombstones) != 2 {
		t.Fatal("prune changed its input")
	}
}

// randomRecord draws a record over a small key space so that collisions,
// ties and tombstones are common.
func randomRecord(rng *rand.Rand, k naming.ServiceKey) Record {
	r := Record{Key: k}
	for i := range 4 {
		ip := "10.0.0." + itoa(int64(i+1))
		switch rng.Intn(3) {
		case 0:
		case 1:
			in := inst(ip, 80, int64(rng.Intn(4)))
			in.Weight = float64(rng.Intn(3))
			if rng.Intn(2) == 0 {
				in.Metadata = map[string]string{"v": itoa(int64(rng.Intn(2)))}
			}
			r.Instances = append(r.Instances, in)
			if rng.Intn(2) == 0 {
				r.Beats = append(r.Beats, BeatMark{Instance: in.Key(), Time: int64(rng.Intn(5))})
			}
		case 2:
			r.Tombstones = append(r.Tombstones, tomb(ip, 80, int64(rng.Intn(4))))
		}
	}
	return r
}

func same(a, b Record) bool {
	return a.Key == b.Key && sameInstances(a.Instances, b.Instances) && slices.Equal(a.Tombstones, b.Tombstones) &&
		maps.Equal(a.marks(), b.marks())
}

func TestMergeProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	k := svc("prop")
	for i := range 5000 {
		a, b, c := randomRecord(rng, k), randomRecord(rng, k), randomRecord(rng, k)
		ab := Merge(a, b)
		if !same(ab, Merge(b, a)) {
			t.Fatalf("#%d not commutative:\n a=%v\n b=%v\n ab=%v\n ba=%v", i, summary(a), summary(b), summary(ab), summary(Merge(b, a)))
		}
		if !same(Merge(ab, c), Merge(a, Merge(b, c))) {
			t.Fatalf("#%d not associative", i)
		}
		if !same(Merge(ab, ab), ab) || !same(Merge(ab, a), ab) {
			t.Fatalf("#%d not idempotent", i)
		}
		// Every instance key of the inputs appears once, at the newest time.
		newest := map[naming.InstanceKey]int64{}
		for _, r := range []Record{a, b} {
			for _, in := range r.Instances {
				newest[in.Key()] = max(newest[in.Key()], in.Updated, r.markOf(in.Key()))
			}
			for _, tb := range r.Tombstones {
				newest[tb.Instance] = max(newest[tb.Instance], tb.Time)
			}
		}
		if got := len(ab.Instances) + len(ab.Tombstones); got != len(newest) {
			t.Fatalf("#%d: %d entries for %d keys", i, got, len(newest))
		}
		for _, in := range ab.Instances {
			if max(in.Updated, ab.markOf(in.Key())) != newest[in.Key()] {
				t.Fatalf("#%d: %s kept at %d, newest %d", i, in.Key().Addr(), in.Updated, newest[in.Key()])
			}
		}
		for _, tb := range ab.Tombstones {
			if tb.Time != newest[tb.Instance] {
				t.Fatalf("#%d: tombstone %s at %d, newest %d", i, tb.Instance.Addr(), tb.Time, newest[tb.Instance])
			}
		}
	}
}

// prune drops tombstones older than before (Unix ms).
func prune(r Record, before int64) Record {
	if len(r.Tombstones) == 0 {
		return r
	}
	kept := make([]Tombstone, 0, len(r.Tombstones))
	for _, t := range r.Tombstones {
		if t.Time >= before {
			kept = append(kept, t)
		}
	}
	r.Tombstones = kept
	return r
}

// sameInstances reports whether two sorted instance lists carry the same
// versions.
func sameInstances(a, b []*naming.Instance) bool {
	return slices.EqualFunc(a, b, func(x, y *naming.Instance) bool { return compareContent(x, y) == 0 })
}
