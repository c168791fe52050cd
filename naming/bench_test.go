package naming

import (
	"fmt"
	"testing"
)

// BenchmarkRegister registers into services that already hold 100
// instances each: the write path of an ephemeral registration.
func BenchmarkRegister(b *testing.B) {
	c := NewCatalog()
	keys := make([]ServiceKey, 100)
	for s := range keys {
		keys[s] = NewServiceKey("", "", fmt.Sprintf("svc-%d", s))
		for i := 0; i < 100; i++ {
			_ = c.Apply(Op{Kind: OpRegister, Time: 1, Service: keys[s], Instance: &Instance{
				IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Port: 8080, Cluster: DefaultCluster, Weight: 1,
				Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a", "v": "1"}}})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := c.Apply(Op{Kind: OpRegister, Time: int64(n + 2), Service: keys[n%100], Instance: &Instance{
			IP: "10.1.0.1", Port: 8000 + n%1000, Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a", "v": "1"}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBeat is a beat on a healthy instance of a 100-instance service.
func BenchmarkBeat(b *testing.B) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	for i := 0; i < 100; i++ {
		_ = c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{
			IP: fmt.Sprintf("10.0.0.%d", i+1), Port: 8080, Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: true}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := c.Apply(Op{Kind: OpBeat, Time: int64(n + 2), Service: k,
			Target: InstanceKey{IP: fmt.Sprint("10.0.0.", n%100+1), Port: 8080, Cluster: DefaultCluster}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisterLarge adds new instances to services of 500 and more
// instances, as the harness's register scenario does.
func BenchmarkRegisterLarge(b *testing.B) {
	c := NewCatalog()
	keys := make([]ServiceKey, 100)
	for s := range keys {
		keys[s] = NewServiceKey("", "", fmt.Sprintf("svc-%d", s))
		for i := 0; i < 500; i++ {
			_ = c.Apply(Op{Kind: OpRegister, Time: 1, Service: keys[s], Instance: &Instance{
				IP: fmt.Sprintf("127.%d.%d.%d", s, i/250, i%250+1), Port: 9000, Cluster: DefaultCluster, Weight: 1,
				Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a"}}})
		}
	}
	ips := make([]string, 4096)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := c.Apply(Op{Kind: OpRegister, Time: int64(n + 2), Service: keys[n%100], Instance: &Instance{
			IP: ips[n%len(ips)], Port: 9000 + n/len(ips), Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a"}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
