package naming

import "testing"

func TestHealthFlipsCountEphemeralChangesOnly(t *testing.T) {
	c := NewCatalog()
	key := svc("flips")
	reg(t, c, key, "10.0.0.1", 80, true, 1000)
	reg(t, c, key, "10.0.0.2", 80, false, 1000)
	eph := InstanceKey{IP: "10.0.0.1", Port: 80, Cluster: DefaultCluster}
	per := InstanceKey{IP: "10.0.0.2", Port: 80, Cluster: DefaultCluster}
	apply := func(op Op) {
		t.Helper()
		if err := c.Apply(op); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
	}
	down := &CheckResult{Time: 2000, Reason: "beat timeout"}
	apply(Op{Kind: OpSetHealth, Time: 2000, Service: key, Target: eph, Ephemeral: true, Healthy: false, Check: down})
	// The same health again is no flip.
	apply(Op{Kind: OpSetHealth, Time: 2001, Service: key, Target: eph, Ephemeral: true, Healthy: false, Check: down})
	// A beat brings it back.
	apply(Op{Kind: OpBeat, Time: 3000, Service: key, Target: eph})
	// A beat on a healthy instance is no flip.
	apply(Op{Kind: OpBeat, Time: 3500, Service: key, Target: eph})
	// Persistent instances are counted by their prober, not here.
	apply(Op{Kind: OpSetHealth, Time: 4000, Service: key, Target: per, Healthy: false, Check: &CheckResult{Time: 4000, Reason: "tcp"}})
	if got, want := c.HealthFlips(), (HealthFlips{ToHealthy: 1, ToUnhealthy: 1}); got != want {
		t.Errorf("HealthFlips = %+v, want %+v", got, want)
	}
}
