package naming

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func mapID(m map[string]string) unsafe.Pointer { return reflect.ValueOf(m).UnsafePointer() }

func registerMD(t *testing.T, c *Catalog, k ServiceKey, ip string, md map[string]string) *Instance {
	t.Helper()
	err := c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{IP: ip, Port: 80,
		Cluster: DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, Metadata: md}})
	if err != nil {
		t.Fatal(err)
	}
	return findIn(t, c, k, ip)
}

func findIn(t *testing.T, c *Catalog, k ServiceKey, ip string) *Instance {
	t.Helper()
	s, ok := c.Service(k)
	if !ok {
		t.Fatalf("service %v missing", k)
	}
	in := s.Find(InstanceKey{IP: ip, Port: 80, Cluster: DefaultCluster})
	if in == nil {
		t.Fatalf("instance %s missing", ip)
	}
	return in
}

// Instances with equal metadata share one map; what each instance reads is
// exactly what it registered, whatever the callers do with their maps later.
func TestMetadataSharedButIndependent(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	give := func() map[string]string { return map[string]string{"zone": "a", "version": "1"} }
	md1 := give()
	a := registerMD(t, c, k, "10.0.0.1", md1)
	b := registerMD(t, c, k, "10.0.0.2", give())
	other := registerMD(t, NewCatalog(), k, "10.0.0.3", give())
	d := registerMD(t, c, k, "10.0.0.4", map[string]string{"zone": "b", "version": "1"})
	if mapID(a.Metadata) != mapID(b.Metadata) {
		t.Error("equal metadata of one catalog are not shared")
	}
	if mapID(a.Metadata) == mapID(other.Metadata) {
		t.Error("two catalogs share a metadata map")
	}
	if mapID(a.Metadata) == mapID(d.Metadata) || d.Metadata["zone"] != "b" {
		t.Errorf("different metadata mixed up: %v", d.Metadata)
	}
	md1["zone"] = "changed by the caller"
	if a = findIn(t, c, k, "10.0.0.1"); !maps.Equal(a.Metadata, give()) {
		t.Errorf("caller's later change leaked into the catalog: %v", a.Metadata)
	}
	// Changing one instance's metadata leaves the others as they were.
	if err := c.Apply(Op{Kind: OpUpdateInstance, Time: 2, Service: k, Target: a.Key(),
		Patch: &InstancePatch{Metadata: map[string]string{"zone": "c"}}}); err != nil {
		t.Fatal(err)
	}
	if a = findIn(t, c, k, "10.0.0.1"); !maps.Equal(a.Metadata, map[string]string{"zone": "c"}) {
		t.Errorf("updated metadata = %v", a.Metadata)
	}
	if b = findIn(t, c, k, "10.0.0.2"); !maps.Equal(b.Metadata, give()) {
		t.Errorf("a neighbour's metadata changed: %v", b.Metadata)
	}
	if n := registerMD(t, c, k, "10.0.0.5", nil); n.Metadata == nil || len(n.Metadata) != 0 {
		t.Errorf("nil metadata = %#v, want an empty map", n.Metadata)
	}
}

// Maps whose entries read the same when run together are still told apart.
func TestMetadataSharingIsExact(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	mds := []map[string]string{
		{"a": "bc"}, {"ab": "c"}, {"a": "b", "c": ""}, {"a": "b,c="}, {"a=b": ""}, {"": "ab"}, {"a": ""}, {},
	}
	for i, md := range mds {
		registerMD(t, c, k, fmt.Sprintf("10.0.1.%d", i+1), md)
	}
	for i, md := range mds {
		if got := findIn(t, c, k, fmt.Sprintf("10.0.1.%d", i+1)).Metadata; !maps.Equal(got, md) {
			t.Errorf("instance %d: metadata %q, want %q", i, got, md)
		}
	}
}

// Past the table's limits (many distinct maps, large maps) every instance
// still reads its own metadata.
func TestMetadataBeyondSharingLimits(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	n := maxSharedMaps + 50
	want := map[string]map[string]string{}
	for i := 0; i < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		md := map[string]string{"id": fmt.Sprint(i), "zone": "a"}
		switch i % 100 {
		case 1:
			md["big"] = strings.Repeat("x", maxSharedBytes)
		case 2:
			for j := 0; j <= maxSharedKeys; j++ {
				md[fmt.Sprint("k", j)] = "v"
			}
		}
		want[ip] = md
		registerMD(t, c, k, ip, maps.Clone(md))
	}
	s, _ := c.Service(k)
	if len(s.Instances) != n {
		t.Fatalf("%d instances, want %d", len(s.Instances), n)
	}
	for _, in := range s.Instances {
		if !maps.Equal(in.Metadata, want[in.IP]) {
			t.Fatalf("%s: metadata %v, want %v", in.IP, in.Metadata, want[in.IP])
		}
	}
}

// within reports whether s points into buf's bytes.
func within(s, buf string) bool {
	if len(s) == 0 || len(buf) == 0 {
		return false
	}
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(buf)))
	return p >= b && p < b+uintptr(len(buf))
}

// What the catalog keeps does not point into the strings an op came with
// (e.g. a request body), and reads the same as what was registered.
func TestInstanceStringsDetachedFromOp(t *testing.T) {
	for _, tc := range []struct{ ip, cluster string }{
		{"10.0.0.1", DefaultCluster}, {"fe80::1", "east-1"}, {"192.168.1.20", "c"},
	} {
		body := strings.Clone("ns=dev&group=G&name=svc&ip=" + tc.ip + "&cluster=" + tc.cluster + "&zone=a")
		cut := func(from, to string) string {
			i := strings.Index(body, from) + len(from)
			j := strings.Index(body[i:], to)
			if j < 0 {
				return body[i:]
			}
			return body[i : i+j]
		}
		k := ServiceKey{Namespace: cut("ns=", "&"), Group: cut("group=", "&"), Name: cut("name=", "&")}
		c := NewCatalog()
		err := c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{IP: cut("ip=", "&"), Port: 80,
			Cluster: cut("cluster=", "&"), Weight: 1, Healthy: true, Enabled: true, Ephemeral: true,
			Metadata: map[string]string{cut("&", "="): cut("zone=", "&")}}})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := c.Service(ServiceKey{Namespace: "dev", Group: "G", Name: "svc"})
		if s == nil || len(s.Instances) != 1 {
			t.Fatalf("%s: service not registered", tc.ip)
		}
		in := s.Instances[0]
		if in.IP != tc.ip || in.Cluster != tc.cluster || in.Key().ID(s.Key) != tc.ip+"#80#"+tc.cluster+"#G@@svc" || in.Port != 80 {
			t.Errorf("instance reads %q %q %q", in.IP, in.Cluster, in.Key().ID(s.Key))
		}
		if s.Key != (ServiceKey{Namespace: "dev", Group: "G", Name: "svc"}) {
			t.Errorf("service key %v", s.Key)
		}
		strs := []string{in.IP, in.Cluster, s.Key.Namespace, s.Key.Group, s.Key.Name}
		for mk, mv := range in.Metadata {
			strs = append(strs, mk, mv)
		}
		for _, x := range strs {
			if within(x, body) {
				t.Errorf("%s: %q still points into the op's buffer", tc.ip, x)
			}
		}
		for _, key := range []ServiceKey{s.Key} {
			if c.services[key] != s {
				t.Errorf("map key of %v is not the view's key", key)
			}
			for mk := range c.services {
				if within(mk.Name, body) || within(mk.Group, body) {
					t.Errorf("the service map's key points into the op's buffer")
				}
			}
		}
	}
}

// Readers of published views race with nothing the catalog does while it
// publishes new ones (run with -race): only instances no reader has seen
// yet are made the catalog's own.
func TestViewsReadWhileChanging(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	zone := map[string]string{}
	done := make(chan struct{})
	read := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				read <- n
				return
			default:
			}
			if s, ok := c.Service(k); ok {
				for _, in := range s.Instances {
					n += len(in.IP) + len(in.Cluster) + len(in.Metadata["zone"]) + len(in.Check.Reason)
				}
				n += len(s.Checksum) + len(s.EphemeralChecksum)
			}
		}
	}()
	for i := 0; i < 2000; i++ {
		ip := fmt.Sprint("10.0.0.", i%20+1)
		var op Op
		switch i % 4 {
		case 0, 1:
			op = Op{Kind: OpRegister, Time: int64(i + 1), Service: k, Instance: &Instance{IP: ip, Port: 80, Cluster: "c",
				Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": fmt.Sprint(i % 3)}}}
		case 2:
			op = Op{Kind: OpSetHealth, Time: int64(i + 1), Service: k, Target: InstanceKey{IP: ip, Port: 80, Cluster: "c"},
				Healthy: i%8 == 2, Check: &CheckResult{Time: int64(i), Reason: "probe " + fmt.Sprint(i%2)}}
		default:
			op = Op{Kind: OpBeat, Time: int64(i + 1), Service: k, Target: InstanceKey{IP: ip, Port: 80, Cluster: "c"}}
		}
		if err := c.Apply(op); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if op.Kind == OpRegister {
			zone[ip] = op.Instance.Metadata["zone"]
		}
	}
	close(done)
	<-read
	s, _ := c.Service(k)
	if len(s.Instances) != len(zone) {
		t.Fatalf("%d instances, want %d", len(s.Instances), len(zone))
	}
	for _, in := range s.Instances {
		if in.Metadata["zone"] != zone[in.IP] {
			t.Errorf("%s: zone %q, want %q", in.IP, in.Metadata["zone"], zone[in.IP])
		}
	}
	if all, eph := scratchSums(s); s.Checksum != all || s.EphemeralChecksum != eph {
		t.Error("checksums differ from those computed alone")
	}
}

// The catalog keeps no instance ID (its views derive it from the key and
// the service), whatever ID an op came with; the persistent state still
// carries each instance's ID, as snapshots always have.
func TestCatalogKeepsNoInstanceID(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "G", "svc")
	if err := c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{IP: "10.0.0.1", Port: 80,
		Cluster: DefaultCluster, Weight: 1, Healthy: true, Enabled: true, ID: "stale"}}); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Service(k)
	if len(s.Instances) != 1 || s.Instances[0].ID != "" {
		t.Fatalf("view instances %+v, want one without an ID", s.Instances)
	}
	st := c.PersistentState()
	if len(st.Services) != 1 || len(st.Services[0].Instances) != 1 {
		t.Fatalf("persistent state %+v", st)
	}
	if got, want := st.Services[0].Instances[0].ID, "10.0.0.1#80#DEFAULT#G@@svc"; got != want {
		t.Errorf("persistent state carries ID %q, want %q", got, want)
	}
	if s.Instances[0].ID != "" {
		t.Error("PersistentState wrote into the view's instance")
	}
}
