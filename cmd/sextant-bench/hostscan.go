package main

import (
	"bytes"
	"encoding/json"
)

// scanHosts calls fn with the ip and healthy fields of each host of an
// instance/list body, in order, without decoding the rest: the beats
// scenario polls every service's list every 5 s, and encoding/json spent
// a quarter of the harness's CPU on it. A body whose hosts it cannot
// read this way (a field missing, out of order, or not a plain string or
// boolean) is decoded with encoding/json instead; an error means the body
// is not a list.
func scanHosts(body []byte, fn func(ip []byte, healthy bool)) error {
	if ips, ok := scanHostFields(body); ok {
		for _, h := range ips {
			fn(h.ip, h.healthy)
		}
		return nil
	}
	var lh listHosts
	if err := json.Unmarshal(body, &lh); err != nil {
		return err
	}
	for _, h := range lh.Hosts {
		fn([]byte(h.IP), h.Healthy)
	}
	return nil
}

type scannedHost struct {
	ip      []byte
	healthy bool
}

var (
	hostsKey    = []byte(`"hosts":[`)
	ipKey       = []byte(`"ip":"`)
	healthyKey  = []byte(`"healthy":`)
	instanceKey = []byte(`"instanceId":`)
)

// scanHostFields reads the hosts array as Sextant and Nacos write it: each
// host an object with "instanceId", then "ip" (a string without escapes),
// then "healthy" (true or false). ok is false when the body is not so.
func scanHostFields(body []byte) (hosts []scannedHost, ok bool) {
	i := bytes.Index(body, hostsKey)
	if i < 0 {
		return nil, false
	}
	rest := body[i+len(hostsKey):]
	if len(rest) > 0 && rest[0] == ']' {
		return nil, true
	}
	// The hosts array ends where the list's next top-level field begins;
	// counting "instanceId" up to there checks that every host was read.
	end := bytes.Index(rest, []byte(`}],"`))
	if end < 0 {
		return nil, false
	}
	arr := rest[:end+1]
	want := bytes.Count(arr, instanceKey)
	for {
		j := bytes.Index(arr, ipKey)
		if j < 0 {
			break
		}
		arr = arr[j+len(ipKey):]
		q := bytes.IndexByte(arr, '"')
		if q < 0 || bytes.IndexByte(arr[:q], '\\') >= 0 {
			return nil, false
		}
		ip := arr[:q]
		arr = arr[q+1:]
		k := bytes.Index(arr, healthyKey)
		if k < 0 {
			return nil, false
		}
		arr = arr[k+len(healthyKey):]
		var h bool
		switch {
		case bytes.HasPrefix(arr, []byte("true")):
			h = true
		case bytes.HasPrefix(arr, []byte("false")):
		default:
			return nil, false
		}
		hosts = append(hosts, scannedHost{ip: ip, healthy: h})
	}
	return hosts, len(hosts) == want && want > 0
}
