package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"sextant/nacoswire"
	"sextant/naming"
)

// cliPageSize is the page size of the list requests (the node's maximum).
const cliPageSize = 100000

// serviceRow is one row of GET /nacos/v1/ns/catalog/services.
type serviceRow = nacoswire.ServiceView

// runServices prints the services of a namespace with their health.
func runServices(args []string, stdout, stderr io.Writer) int {
	c := newCLICommand("services", "Print the services of a namespace: instances, healthy instances, clusters, and whether the protect threshold is reached.", stdout, stderr)
	ns := c.fs.String("namespace", naming.DefaultNamespace, "namespace id")
	group := c.fs.String("group", "", "only this group (default: every group)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	var rows []serviceRow
	for page := 1; ; page++ {
		var v struct {
			ServiceList []serviceRow `json:"serviceList"`
			Count       int          `json:"count"`
		}
		params := url.Values{"namespaceId": {*ns}, "pageNo": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(cliPageSize)}}
		if err := c.getJSON("/nacos/v1/ns/catalog/services", params, &v); err != nil {
			return c.fail(err)
		}
		rows = append(rows, v.ServiceList...)
		if len(v.ServiceList) < cliPageSize || len(rows) >= v.Count {
			break
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].GroupName != rows[j].GroupName {
			return rows[i].GroupName < rows[j].GroupName
		}
		return rows[i].Name < rows[j].Name
	})
	t := newTable(stdout, "SERVICE", "GROUP", "INSTANCES", "HEALTHY", "CLUSTERS", "PROTECTED")
	for _, r := range rows {
		if *group != "" && r.GroupName != *group {
			continue
		}
		t.row(r.Name, r.GroupName, strconv.Itoa(r.IPCount), strconv.Itoa(r.HealthyInstanceCount), strconv.Itoa(r.ClusterCount), yesNo(r.TriggerFlag == "true"))
	}
	t.flush()
	return exitOK
}

// instanceRow is one instance of GET /nacos/v1/ns/catalog/instances.
type instanceRow struct {
	nacoswire.Instance
	LastBeat int64              `json:"lastBeat"`
	Check    naming.CheckResult `json:"check"`
}

// runInstances prints the instances of one service with their health.
func runInstances(args []string, stdout, stderr io.Writer) int {
	c := newCLICommand("instances", "Print the instances of a service: address, cluster, weight, health and why, class, metadata.", stdout, stderr)
	service := c.fs.String("service", "", "service name, or group@@name (required)")
	group := c.fs.String("group", naming.DefaultGroup, "group of the service")
	ns := c.fs.String("namespace", naming.DefaultNamespace, "namespace id")
	cluster := c.fs.String("cluster", "", "only this cluster (default: every cluster)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *service == "" {
		code, _ := c.usageError("--service is required")
		return code
	}
	key := url.Values{"namespaceId": {*ns}, "serviceName": {*service}, "groupName": {*group}}
	var svc struct {
		Clusters []struct {
			Name string `json:"name"`
		} `json:"clusters"`
	}
	if err := c.getJSON("/nacos/v1/ns/catalog/service", key, &svc); err != nil {
		return c.fail(err)
	}
	var rows []instanceRow
	for _, cl := range svc.Clusters {
		if *cluster != "" && cl.Name != *cluster {
			continue
		}
		params := cloneValues(key)
		params.Set("clusterName", cl.Name)
		params.Set("pageNo", "1")
		params.Set("pageSize", strconv.Itoa(cliPageSize))
		var v struct {
			List []json.RawMessage `json:"list"`
		}
		if err := c.getJSON("/nacos/v1/ns/catalog/instances", params, &v); err != nil {
			return c.fail(err)
		}
		for _, raw := range v.List {
			var r instanceRow
			if err := json.Unmarshal(raw, &r); err != nil {
				return c.fail(fmt.Errorf("unexpected instance %q: %v", clipText(string(raw)), err))
			}
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.ClusterName != b.ClusterName {
			return a.ClusterName < b.ClusterName
		}
		if a.IP != b.IP {
			return a.IP < b.IP
		}
		return a.Port < b.Port
	})
	t := newTable(stdout, "IP", "PORT", "CLUSTER", "WEIGHT", "HEALTHY", "ENABLED", "EPHEMERAL", "CHECK", "METADATA")
	now := time.Now()
	for _, r := range rows {
		check := r.Check.Reason
		if r.Check.Time > 0 {
			check = strings.TrimSpace(check + " (" + ago(now, time.UnixMilli(r.Check.Time)) + ")")
		}
		t.row(r.IP, strconv.Itoa(r.Port), r.ClusterName, strconv.FormatFloat(r.Weight, 'f', -1, 64), yesNo(r.Healthy),
			yesNo(r.Enabled), yesNo(r.Ephemeral), check, metadataText(r.Metadata))
	}
	t.flush()
	return exitOK
}

// metadataText renders metadata as sorted k=v pairs.
func metadataText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
