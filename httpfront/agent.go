package httpfront

import (
	"net/http"
	"strings"

	"sextant/naming"
)

// Client types Nacos recognises in a User-Agent "<Type>:v<version>".
const (
	agentJava   = "Nacos-Java-Client"
	agentSDK    = "Nacos-SDK-Java"
	agentGo     = "Nacos-Go-Client"
	agentC      = "Nacos-C-Client"
	agentCSharp = "Nacos-CSharp-Client"
	agentDNS    = "Nacos-DNS"
)

// clientInfo is the parsed User-Agent (falling back to Client-Version).
type clientInfo struct {
	typ     string
	version [3]int
}

func agentOf(r *http.Request) string {
	if ua := r.Header.Get("User-Agent"); ua != "" {
		return ua
	}
	return r.Header.Get("Client-Version")
}

func parseAgent(ua string) clientInfo {
	typ, ver, ok := strings.Cut(strings.TrimSpace(ua), ":")
	if !ok {
		return clientInfo{}
	}
	return clientInfo{typ: typ, version: parseVersion(ver)}
}

// parseVersion reads "v1.4.1" or "1.4.1"; missing or non-numeric parts are 0.
func parseVersion(s string) [3]int {
	var v [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	for i := range v {
		part, rest, more := strings.Cut(s, ".")
		if i == len(v)-1 {
			part = s // the last part keeps any further dots, as SplitN(s, ".", 3)
		}
		n := 0
		for j := 0; j < len(part) && part[j] >= '0' && part[j] <= '9' && n < 1e6; j++ {
			n = n*10 + int(part[j]-'0')
		}
		v[i] = n
		if !more {
			break
		}
		s = rest
	}
	return v
}

func (ci clientInfo) atLeast(v [3]int) bool {
	for i := range v {
		if ci.version[i] != v[i] {
			return ci.version[i] > v[i]
		}
	}
	return true
}

// javaGrouped reports whether the client is a Java client of 1.0.0 or
// later: Nacos gives it grouped service names in instance/list (dom and each
// host's serviceName) and a strict update on PUT /instance.
func (ci clientInfo) javaGrouped() bool {
	return (ci.typ == agentJava || ci.typ == agentSDK) && ci.atLeast([3]int{1, 0, 0})
}

// canPush reports whether Nacos would push to this client: push is on and
// the client is of a known type at or above the switch's minimum version.
func (ci clientInfo) canPush(sw naming.Switches) bool {
	if !sw.PushEnabled {
		return false
	}
	var min string
	switch ci.typ {
	case agentJava, agentSDK:
		min = sw.PushJavaVersion
	case agentGo:
		min = sw.PushGoVersion
	case agentC:
		min = sw.PushCVersion
	case agentCSharp:
		min = sw.PushCSharpVersion
	case agentDNS:
		min = sw.PushPythonVersion
	default:
		return false
	}
	return ci.atLeast(parseVersion(min))
}

// flavour is the part of the client identity that changes a rendered list.
type flavour uint8

const (
	flavourBare    flavour = iota // dom and hosts' serviceName are bare names
	flavourGrouped                // Java ≥ 1.0.0: grouped names
)

func (ci clientInfo) flavour() flavour {
	if ci.javaGrouped() {
		return flavourGrouped
	}
	return flavourBare
}
