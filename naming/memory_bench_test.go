package naming

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
)

// memoryMetadata is the metadata every instance of the memory benchmark
// carries: long beat timeouts, as the load harness sends.
const memoryMetadata = `{"preserved.heart.beat.timeout":"86400000","preserved.ip.delete.timeout":"86400000"}`

// formRegister builds the op a node derives from one registration form:
// the key and address are substrings of the decoded body and the metadata
// map is freshly decoded JSON, as the HTTP front hands them over.
func formRegister(t testing.TB, service, ip string, port int, now int64) Op {
	body := url.Values{"serviceName": {service}, "ip": {ip}, "port": {strconv.Itoa(port)},
		"ephemeral": {"true"}, "weight": {"1"}, "healthy": {"true"}, "enabled": {"true"},
		"metadata": {memoryMetadata}}.Encode()
	v, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(v.Get("metadata")), &raw); err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(v.Get("port"))
	return Op{Kind: OpRegister, Time: now, Ephemeral: true, Service: NewServiceKey("", "", v.Get("serviceName")),
		Instance: &Instance{IP: v.Get("ip"), Port: p, Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: true, Metadata: raw}}
}

// memoryIP is the address of instance k, spread as the harness spreads them.
func memoryIP(k int) string {
	k++
	return fmt.Sprintf("127.%d.%d.%d", 1+(k>>16)%250, (k>>8)&255, k&255)
}

// BenchmarkCatalogMemory registers 100,000 ephemeral instances in 1,000
// services, as the memory scenario of the load harness does, and reports
// the live heap each instance costs once garbage is collected.
func BenchmarkCatalogMemory(b *testing.B) {
	const n, perService = 100000, 100
	for it := 0; it < b.N; it++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := NewCatalog()
		for i := 0; i < n; i++ {
			op := formRegister(b, fmt.Sprintf("mem-%05d", i/perService), memoryIP(i), 8000, int64(i+1))
			if err := c.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-B/instance")
		b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/n, "objects/instance")
		if path := os.Getenv("NAMING_HEAP_PROFILE"); path != "" {
			writeHeapProfile(b, path)
		}
		runtime.KeepAlive(c)
	}
}

// writeHeapProfile writes the live heap to path (set NAMING_HEAP_PROFILE
// and -memprofilerate to see where the bytes of an instance go).
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}
