package nodeauth

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkSignedRequest signs a request with a 1 KiB body and serves it
// through a Guard: the cost signing adds to one node-to-node call, both
// ends.
func BenchmarkSignedRequest(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	g := NewGuard("the-cluster-secret", 1<<20, 64, time.Now, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/sextant/v1/distro/sync", bytes.NewReader(body))
		r.Header.Set(FromHeader, "10.0.0.1:8848")
		Sign(r, "the-cluster-secret", body, time.Now())
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
