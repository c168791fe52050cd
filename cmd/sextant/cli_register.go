package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"sextant/naming"
)

// metadataFlag collects --metadata key=value (repeatable, or
// comma-separated) or one JSON object.
type metadataFlag map[string]string

func (m metadataFlag) String() string { return metadataText(m) }

func (m metadataFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var v map[string]string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return fmt.Errorf("metadata JSON must be an object of strings: %v", err)
		}
		for k, val := range v {
			m[k] = val
		}
		return nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return fmt.Errorf("metadata %q is not key=value", kv)
		}
		m[k] = v
	}
	return nil
}

// instanceFlags are the flags naming one instance.
type instanceFlags struct {
	service, group, ns, cluster, ip string
	port                            int
}

func (c *cliCommand) instanceFlags() *instanceFlags {
	f := &instanceFlags{}
	c.fs.StringVar(&f.service, "service", "", "service name, or group@@name (required)")
	c.fs.StringVar(&f.group, "group", naming.DefaultGroup, "group of the service")
	c.fs.StringVar(&f.ns, "namespace", naming.DefaultNamespace, "namespace id")
	c.fs.StringVar(&f.cluster, "cluster", naming.DefaultCluster, "cluster of the instance")
	c.fs.StringVar(&f.ip, "ip", "", "instance IP address (required)")
	c.fs.IntVar(&f.port, "port", 0, "instance port, 1-65535 (required)")
	return f
}

// check reports the first missing or malformed flag.
func (f *instanceFlags) check() error {
	switch {
	case f.service == "":
		return fmt.Errorf("--service is required")
	case f.ip == "":
		return fmt.Errorf("--ip is required")
	case net.ParseIP(f.ip) == nil:
		return fmt.Errorf("--ip %q is not an IP address", f.ip)
	case f.port < 1 || f.port > 65535:
		return fmt.Errorf("--port must be 1-65535")
	}
	return nil
}

func (f *instanceFlags) params() url.Values {
	return url.Values{"serviceName": {f.service}, "groupName": {f.group}, "namespaceId": {f.ns},
		"clusterName": {f.cluster}, "ip": {f.ip}, "port": {strconv.Itoa(f.port)}}
}

func (f *instanceFlags) String() string {
	return fmt.Sprintf("%s in %s", net.JoinHostPort(f.ip, strconv.Itoa(f.port)), naming.NewServiceKey(f.ns, f.group, f.service))
}

// runRegister registers (or replaces) one instance.
func runRegister(args []string, stdout, stderr io.Writer) int {
	c := newCLICommand("register", "Register an instance, or replace it with the values given.\n"+
		"Instances are persistent by default: they stay until deregistered and are probed by the node\n"+
		"(TCP on their port unless the cluster says otherwise). An --ephemeral instance is removed 30 s\n"+
		"after its last beat (PUT /nacos/v1/ns/instance/beat), so a script must keep beating it.", stdout, stderr)
	f := c.instanceFlags()
	weight := c.fs.Float64("weight", 1, "weight, 0-10000 (0: no traffic)")
	ephemeral := c.fs.Bool("ephemeral", false, "register an ephemeral instance, kept alive by client beats")
	enabled := c.fs.Bool("enabled", true, "whether the instance receives traffic")
	healthy := c.fs.Bool("healthy", true, "initial health")
	meta := metadataFlag{}
	c.fs.Var(meta, "metadata", "metadata as key=value (repeat, or comma-separate) or a JSON object")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if err := f.check(); err != nil {
		code, _ := c.usageError("%v", err)
		return code
	}
	if *weight < 0 || *weight > naming.MaxWeight {
		code, _ := c.usageError("--weight must be 0-%d", naming.MaxWeight)
		return code
	}
	p := f.params()
	p.Set("weight", strconv.FormatFloat(*weight, 'f', -1, 64))
	p.Set("ephemeral", strconv.FormatBool(*ephemeral))
	p.Set("enabled", strconv.FormatBool(*enabled))
	p.Set("healthy", strconv.FormatBool(*healthy))
	if len(meta) > 0 {
		b, _ := json.Marshal(map[string]string(meta))
		p.Set("metadata", string(b))
	}
	if _, err := c.call(http.MethodPost, "/nacos/v1/ns/instance", p); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, "registered", f)
	return exitOK
}

// runDeregister removes one instance; removing an absent one succeeds.
func runDeregister(args []string, stdout, stderr io.Writer) int {
	c := newCLICommand("deregister", "Remove an instance (ephemeral or persistent). Removing an instance that is not there succeeds.", stdout, stderr)
	f := c.instanceFlags()
	if code, ok := c.parse(args); !ok {
		return code
	}
	if err := f.check(); err != nil {
		code, _ := c.usageError("%v", err)
		return code
	}
	if _, err := c.call(http.MethodDelete, "/nacos/v1/ns/instance", f.params()); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, "deregistered", f)
	return exitOK
}
