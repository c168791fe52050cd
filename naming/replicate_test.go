package naming

import "testing"

func TestReplaceEphemeralKeepsPersistent(t *testing.T) {
	c := NewCatalog()
	k := svc("mixed")
	reg(t, c, k, "10.0.0.1", 80, false, 1000)
	reg(t, c, k, "10.0.0.2", 80, true, 1000)
	set := []*Instance{
		{IP: "10.0.0.3", Port: 80, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true},
		{IP: "10.0.0.4", Port: 80, Cluster: "DEFAULT", Weight: 1, Healthy: false, Enabled: true},
	}
	if err := c.Apply(Op{Kind: OpReplaceEphemeral, Time: 2000, Service: k, Instances: set}); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Service(k)
	got := map[string]bool{}
	for _, in := range s.Instances {
		got[in.IP] = in.Ephemeral
	}
	want := map[string]bool{"10.0.0.1": false, "10.0.0.3": true, "10.0.0.4": true}
	if len(got) != len(want) {
		t.Fatalf("instances %v, want %v", got, want)
	}
	for ip, eph := range want {
		if e, ok := got[ip]; !ok || e != eph {
			t.Errorf("%s: present=%v ephemeral=%v", ip, ok, e)
		}
	}
	rev := s.Revision
	sum := s.EphemeralChecksum
	// The same set again changes nothing.
	if err := c.Apply(Op{Kind: OpReplaceEphemeral, Time: 3000, Service: k, Instances: set}); err != nil {
		t.Fatal(err)
	}
	if s, _ = c.Service(k); s.Revision != rev || s.EphemeralChecksum != sum {
		t.Error("identical replacement made a new revision")
	}
	// A persistent change leaves the ephemeral checksum alone.
	reg(t, c, k, "10.0.0.9", 80, false, 4000)
	if s, _ = c.Service(k); s.EphemeralChecksum != sum {
		t.Error("persistent change moved the ephemeral checksum")
	}
	// Replication into an unknown service creates it.
	k2 := svc("fresh")
	if err := c.Apply(Op{Kind: OpReplaceEphemeral, Time: 5000, Service: k2, Instances: set[:1]}); err != nil {
		t.Fatal(err)
	}
	if s2, ok := c.Service(k2); !ok || len(s2.Instances) != 1 || !s2.Meta.Implicit {
		t.Fatalf("fresh service: %+v", s2)
	}
	// A bad instance in the set rejects the whole op.
	bad := append([]*Instance{}, set...)
	bad = append(bad, &Instance{IP: "nope", Port: 1, Cluster: "DEFAULT"})
	if err := c.Apply(Op{Kind: OpReplaceEphemeral, Time: 6000, Service: k, Instances: bad}); err == nil {
		t.Error("bad instance accepted")
	}
}
