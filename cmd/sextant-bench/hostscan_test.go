package main

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestScanHostsAgreesWithJSON: the scan reads what encoding/json reads,
// on list bodies as Sextant writes them and on bodies it must hand over.
func TestScanHostsAgreesWithJSON(t *testing.T) {
	host := func(ip string, healthy bool, md string) string {
		return fmt.Sprintf(`{"instanceId":"%s#80#DEFAULT#DEFAULT_GROUP@@s","ip":"%s","port":80,"weight":1,"healthy":%v,"enabled":true,"ephemeral":true,"clusterName":"DEFAULT","serviceName":"s","metadata":%s,"valid":%v,"marked":false}`, ip, ip, healthy, md, healthy)
	}
	list := func(hosts string) string {
		return `{"name":"DEFAULT_GROUP@@s","dom":"s","clusters":"","cacheMillis":3000,"hosts":[` + hosts + `],"checksum":"x","useSpecifiedURL":false,"env":"","metadata":{},"reachProtectionThreshold":false,"allIPs":false,"valid":true,"lastRefTime":1}`
	}
	bodies := []string{
		list(""),
		list(host("127.1.0.1", true, "{}")),
		list(host("127.1.0.1", true, "{}") + "," + host("127.1.0.2", false, `{"k":"v"}`) + "," + host("::1", true, "{}")),
		list(host("127.1.0.1", true, `{"ip":"1.2.3.4","healthy":"no"}`)), // metadata that looks like fields
		list(`{"healthy":false,"ip":"127.1.0.9","instanceId":"x"}`),      // another order
	}
	for _, b := range bodies {
		var want []string
		var lh listHosts
		if err := json.Unmarshal([]byte(b), &lh); err != nil {
			t.Fatal(err)
		}
		for _, h := range lh.Hosts {
			want = append(want, fmt.Sprintf("%s %v", h.IP, h.Healthy))
		}
		var got []string
		if err := scanHosts([]byte(b), func(ip []byte, healthy bool) { got = append(got, fmt.Sprintf("%s %v", ip, healthy)) }); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\nscan %v\njson %v", b, got, want)
		}
	}
	if err := scanHosts([]byte("not json"), func([]byte, bool) {}); err == nil {
		t.Error("a body that is not a list was accepted")
	}
}
