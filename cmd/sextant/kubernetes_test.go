package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"sextant/httpfront"
	"sextant/naming"
)

// The parts of the Kubernetes objects the checks below read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`
}

type k8sService struct {
	ClusterIP                string            `yaml:"clusterIP"`
	PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
	Selector                 map[string]string `yaml:"selector"`
	Ports                    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort string `yaml:"targetPort"`
		Protocol   string `yaml:"protocol"`
	} `yaml:"ports"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string `yaml:"name"`
		ValueFrom struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
			ResourceFieldRef *struct {
				Resource string `yaml:"resource"`
			} `yaml:"resourceFieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type k8sStatefulSet struct {
	ServiceName         string `yaml:"serviceName"`
	Replicas            int    `yaml:"replicas"`
	PodManagementPolicy string `yaml:"podManagementPolicy"`
	Selector            struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			SecurityContext struct {
				RunAsNonRoot bool `yaml:"runAsNonRoot"`
				RunAsUser    int  `yaml:"runAsUser"`
				Sysctls      []struct {
					Name  string `yaml:"name"`
					Value string `yaml:"value"`
				} `yaml:"sysctls"`
			} `yaml:"securityContext"`
			Containers []k8sContainer `yaml:"containers"`
		} `yaml:"spec"`
	} `yaml:"template"`
	VolumeClaimTemplates []struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	} `yaml:"volumeClaimTemplates"`
}

type k8sPDB struct {
	MaxUnavailable int `yaml:"maxUnavailable"`
	Selector       struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
}

const k8sManifest = "../../etc/kubernetes/sextant.yaml"

// loadManifests parses every document of the shipped manifest, strictly.
func loadManifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(k8sManifest)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", k8sManifest, err)
		}
		if o.Kind == "" {
			continue
		}
		if o.APIVersion == "" || o.Metadata.Name == "" {
			t.Fatalf("%s: a %s without apiVersion or name", k8sManifest, o.Kind)
		}
		objs[o.Kind+"/"+o.Metadata.Name] = o
	}
	return objs
}

func decodeSpec[T any](t *testing.T, objs map[string]k8sObject, id string) T {
	t.Helper()
	var v T
	o, ok := objs[id]
	if !ok {
		t.Fatalf("%s has no %s", k8sManifest, id)
	}
	if err := o.Spec.Decode(&v); err != nil {
		t.Fatalf("%s spec: %v", id, err)
	}
	return v
}

// expand replaces $(VAR) as the kubelet does in container args.
func expand(s string, env map[string]string) string {
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	if err != nil || n == 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return n
}

func TestKubernetesManifests(t *testing.T) {
	objs := loadManifests(t)
	sts := decodeSpec[k8sStatefulSet](t, objs, "StatefulSet/sextant")
	peers := decodeSpec[k8sService](t, objs, "Service/"+sts.ServiceName)
	front := decodeSpec[k8sService](t, objs, "Service/sextant")
	pdb := decodeSpec[k8sPDB](t, objs, "PodDisruptionBudget/sextant")

	if sts.Replicas != 3 {
		t.Errorf("replicas = %d, want 3", sts.Replicas)
	}
	if sts.PodManagementPolicy != "Parallel" {
		t.Errorf("podManagementPolicy = %q: members load from each other, so they must start together", sts.PodManagementPolicy)
	}
	labels := sts.Template.Metadata.Labels
	selects := func(what string, sel map[string]string) {
		if len(sel) == 0 {
			t.Errorf("%s has no selector", what)
		}
		for k, v := range sel {
			if labels[k] != v {
				t.Errorf("%s selects %s=%s, which the pods do not carry", what, k, v)
			}
		}
	}
	selects("the StatefulSet", sts.Selector.MatchLabels)
	selects("the peer Service", peers.Selector)
	selects("the Service", front.Selector)
	selects("the PodDisruptionBudget", pdb.Selector.MatchLabels)
	if pdb.MaxUnavailable != 1 {
		t.Errorf("PDB maxUnavailable = %d, want 1", pdb.MaxUnavailable)
	}
	if peers.ClusterIP != "None" || !peers.PublishNotReadyAddresses {
		t.Errorf("peer Service must be headless and publish not-ready pods: %+v", peers)
	}
	if sc := sts.Template.Spec.SecurityContext; !sc.RunAsNonRoot || sc.RunAsUser == 0 {
		t.Errorf("pods must run as a non-root user: %+v", sc)
	}
	if len(sts.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(sts.Template.Spec.Containers))
	}
	c := sts.Template.Spec.Containers[0]

	// Container ports, by name and protocol.
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
		ports[p.Protocol+"/"+strconv.Itoa(p.ContainerPort)] = p.ContainerPort
	}
	for _, want := range []string{"TCP/8848", "TCP/7848", "UDP/53", "TCP/53"} {
		if ports[want] == 0 {
			t.Errorf("container does not expose %s", want)
		}
	}
	// Service ports point at container ports of the right protocol.
	for _, svc := range []struct {
		name string
		s    k8sService
	}{{"sextant-peers", peers}, {"sextant", front}} {
		for _, p := range svc.s.Ports {
			target := ports[p.TargetPort]
			if target == 0 {
				target, _ = strconv.Atoi(p.TargetPort)
			}
			if ports[p.Protocol+"/"+strconv.Itoa(target)] == 0 {
				t.Errorf("Service %s port %s targets %s/%s, which the container does not expose", svc.name, p.Name, p.Protocol, p.TargetPort)
			}
		}
	}
	exposed := map[string]bool{}
	for _, p := range front.Ports {
		exposed[p.Protocol+"/"+strconv.Itoa(p.Port)] = true
	}
	for _, want := range []string{"TCP/8848", "UDP/53", "TCP/53"} {
		if !exposed[want] {
			t.Errorf("Service sextant does not expose %s", want)
		}
	}

	// Probes name endpoints the binary serves, on the HTTP port.
	probes := map[string]*k8sProbe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe}
	for kind, p := range probes {
		if p == nil {
			t.Errorf("no %s probe", kind)
			continue
		}
		if p.HTTPGet.Port != "http" && p.HTTPGet.Port != "8848" {
			t.Errorf("%s probe on port %q, not the HTTP port", kind, p.HTTPGet.Port)
		}
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet.Path != "/nacos/v1/console/health/readiness" {
		t.Errorf("readiness probe path %q", c.ReadinessProbe.HTTPGet.Path)
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet.Path != "/nacos/v1/console/health/liveness" {
		t.Errorf("liveness probe path %q", c.LivenessProbe.HTTPGet.Path)
	}
	front200 := probeServer(t)
	for kind, p := range probes {
		if p != nil && !front200(p.HTTPGet.Path) {
			t.Errorf("%s probe path %s does not answer 200 on a ready node", kind, p.HTTPGet.Path)
		}
	}

	// The args are a valid `sextant server` command line for every pod,
	// and each pod finds itself in the member list.
	if len(c.Args) == 0 || c.Args[0] != "server" {
		t.Fatalf("container args %q do not run `sextant server`", c.Args)
	}
	known := newServerFlags("server")
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = "prod"
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "a-secret"
		}
	}
	usesSecret := false
	for _, a := range c.Args[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") || known.fs.Lookup(name) == nil {
			t.Errorf("container arg %q is not a flag of `sextant server`", a)
		}
		if strings.HasPrefix(a, "--cluster-secret=$(") {
			usesSecret = env[strings.TrimSuffix(strings.TrimPrefix(a, "--cluster-secret=$("), ")")] == "a-secret"
		}
	}
	if !usesSecret {
		t.Error("--cluster-secret does not come from a Secret")
	}
	var mountedData bool
	for i := 0; i < sts.Replicas; i++ {
		pod := "sextant-" + strconv.Itoa(i)
		env["POD_NAME"] = pod
		args := make([]string, 0, len(c.Args)-1)
		for _, a := range c.Args[1:] {
			args = append(args, expand(a, env))
		}
		f := newServerFlags("server")
		f.fs.SetOutput(io.Discard)
		cfg, err := f.parse(args)
		if err != nil {
			t.Fatalf("%s: args %q: %v", pod, args, err)
		}
		want := pod + "." + sts.ServiceName + ".prod.svc.cluster.local:8848"
		if cfg.HTTPAddr != want {
			t.Errorf("%s: http-addr %q, want its stable name %q", pod, cfg.HTTPAddr, want)
		}
		if len(cfg.Members) != sts.Replicas || !contains(cfg.Members, cfg.HTTPAddr) {
			t.Errorf("%s: members %q do not list the %d pods, itself included", pod, cfg.Members, sts.Replicas)
		}
		if portOf(t, cfg.HTTPAddr) != ports["http"] || portOf(t, cfg.DNSAddr) != ports["dns"] ||
			portOf(t, cfg.HTTPAddr)+raftPortOffset != ports["raft"] || portOf(t, cfg.RaftAddr) != ports["raft"] {
			t.Errorf("%s: flag ports (http %s, dns %s, raft %s) disagree with the container ports %v", pod, cfg.HTTPAddr, cfg.DNSAddr, cfg.RaftAddr, ports)
		}
		if cfg.ClusterSecret != "a-secret" {
			t.Errorf("%s: cluster secret %q", pod, cfg.ClusterSecret)
		}
		for _, m := range c.VolumeMounts {
			mountedData = mountedData || m.MountPath == cfg.DataDir && len(sts.VolumeClaimTemplates) == 1 && m.Name == sts.VolumeClaimTemplates[0].Metadata.Name
		}
	}
	if !mountedData {
		t.Error("the data dir is not on the pod's PersistentVolumeClaim")
	}
	var sysctl bool
	for _, s := range sts.Template.Spec.SecurityContext.Sysctls {
		sysctl = sysctl || s.Name == "net.ipv4.ip_unprivileged_port_start" && s.Value == strconv.Itoa(ports["dns"])
	}
	if ports["dns"] < 1024 && !sysctl {
		t.Errorf("a non-root pod cannot bind DNS port %d without net.ipv4.ip_unprivileged_port_start", ports["dns"])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// probeServer returns a check that a path answers 200 on the HTTP front of
// a ready node.
func probeServer(t *testing.T) func(path string) bool {
	t.Helper()
	httpfront.UseReleaseMode()
	front, err := httpfront.New(httpfront.DefaultConfig(), naming.NewCatalog(), readOnly{}, gatewayCluster{addr: func() string { return "127.0.0.1:8848" }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close() })
	return func(path string) bool {
		rec := httptest.NewRecorder()
		front.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code == http.StatusOK
	}
}

func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var froms, build []string
	var user string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "RUN":
			if strings.Contains(line, "go build") {
				build = f
			}
		case "USER":
			user = f[1]
		}
	}
	if len(build) == 0 || !contains(build, "CGO_ENABLED=0") || !contains(build, "./cmd/sextant") {
		t.Errorf("the Dockerfile does not build ./cmd/sextant with CGO_ENABLED=0: %q", build)
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM %q", froms)
	}
	final := froms[len(froms)-1]
	if !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("final image %q is not distroless/static or scratch", final)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	// The builder's Go matches go.mod's.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVer == nil || !strings.HasPrefix(froms[0], "golang:"+string(goVer[1])) {
		t.Errorf("builder image %q does not match go.mod's Go %s", froms[0], goVer[1])
	}
	if !strings.Contains(text, `ENTRYPOINT ["/usr/local/bin/sextant"]`) {
		t.Error("the image's entrypoint is not the sextant binary")
	}
}
