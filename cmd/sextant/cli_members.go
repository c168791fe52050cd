package main

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// memberRow is one member in GET /nacos/v1/ns/operator/servers.
type memberRow struct {
	Address       string `json:"address"`
	State         string `json:"state"`
	FailAccessCnt int    `json:"failAccessCnt"`
	ExtendInfo    struct {
		RaftRole        string `json:"raftRole"`
		LastRefreshTime int64  `json:"lastRefreshTime"`
		Self            bool   `json:"self"`
	} `json:"extendInfo"`
}

// runMembers prints the cluster as the node sees it.
func runMembers(args []string, stdout, stderr io.Writer) int {
	c := newCLICommand("members", "Print the cluster as the node sees it: each member's address, state, Raft role and connected gRPC clients.", stdout, stderr)
	if code, ok := c.parse(args); !ok {
		return code
	}
	var v struct {
		Servers []memberRow `json:"servers"`
	}
	if err := c.getJSON("/nacos/v1/ns/operator/servers", nil, &v); err != nil {
		return c.fail(err)
	}
	sort.Slice(v.Servers, func(i, j int) bool { return v.Servers[i].Address < v.Servers[j].Address })
	t := newTable(stdout, "ADDRESS", "STATE", "RAFT", "SELF", "LAST SEEN", "FAILED REPORTS", "GRPC CLIENTS")
	now := time.Now()
	for _, m := range v.Servers {
		seen := ""
		if ms := m.ExtendInfo.LastRefreshTime; ms > 0 {
			seen = ago(now, time.UnixMilli(ms))
		}
		t.row(m.Address, m.State, m.ExtendInfo.RaftRole, yesNo(m.ExtendInfo.Self), seen, strconv.Itoa(m.FailAccessCnt), c.grpcClients(m.Address))
	}
	t.flush()
	return exitOK
}

// grpcClients reads a member's sextant_grpc_connections from its
// metrics; "?" when the member does not answer.
func (c *cliCommand) grpcClients(member string) string {
	scheme := "http://"
	if b := c.baseURLs(); len(b) > 0 && strings.HasPrefix(b[0], "https://") {
		scheme = "https://"
	}
	body, err := c.send(scheme+member, http.MethodGet, "/metrics", nil)
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "sextant_grpc_connections "); ok {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return strconv.Itoa(int(n))
			}
		}
	}
	return "-"
}

// ago renders the time since then, rounded for reading.
func ago(now, then time.Time) string {
	d := now.Sub(then)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return d.Round(time.Second).String() + " ago"
	case d < 48*time.Hour:
		return d.Round(time.Minute).String() + " ago"
	}
	return then.UTC().Format(time.RFC3339)
}
