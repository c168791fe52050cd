package main

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/clients"
	"github.com/nacos-group/nacos-sdk-go/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/common/constant"
	"github.com/nacos-group/nacos-sdk-go/model"
	"github.com/nacos-group/nacos-sdk-go/vo"
)

// newNacosClient returns an unmodified nacos-sdk-go v1.1.4 naming client for p.
func newNacosClient(t *testing.T, p *proc) naming_client.INamingClient {
	t.Helper()
	return newNacosClientWith(t, p, false)
}

// newNacosClientWith sets UpdateCacheWhenEmpty: without it the client keeps
// its last non-empty list when a service becomes empty.
func newNacosClientWith(t *testing.T, p *proc, updateWhenEmpty bool) naming_client.INamingClient {
	t.Helper()
	dir := t.TempDir()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs:            5000,
			NotLoadCacheAtStart:  true,
			CacheDir:             dir + "/cache",
			LogDir:               dir + "/log",
			LogLevel:             "error",
			UpdateCacheWhenEmpty: updateWhenEmpty,
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: uint64(p.port()), ContextPath: "/nacos"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ips(hosts []model.Instance) map[string]model.Instance {
	m := map[string]model.Instance{}
	for _, h := range hosts {
		m[fmt.Sprintf("%s:%d", h.Ip, h.Port)] = h
	}
	return m
}

// TestNacosClientEndToEnd drives the binary with the real Go client:
// register, discover, subscribe (by push), update and deregister.
func TestNacosClientEndToEnd(t *testing.T) {
	p := startSextant(t, "")
	c := newNacosClient(t, p)
	const svc = "orders"

	var mu sync.Mutex
	var seen [][]model.SubscribeService
	err := c.Subscribe(&vo.SubscribeParam{ServiceName: svc, SubscribeCallback: func(s []model.SubscribeService, err error) {
		if err == nil {
			mu.Lock()
			seen = append(seen, s)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	lastSeen := func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		m := map[string]bool{}
		if len(seen) > 0 {
			for _, s := range seen[len(seen)-1] {
				m[fmt.Sprintf("%s:%d", s.Ip, s.Port)] = s.Healthy
			}
		}
		return m
	}

	for i, ip := range []string{"127.0.0.11", "127.0.0.12"} {
		ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: ip, Port: 8080, ServiceName: svc, Weight: float64(i + 1),
			Enable: true, Healthy: true, Ephemeral: true, Metadata: map[string]string{"zone": "a"}})
		if err != nil || !ok {
			t.Fatalf("register %s: %v", ip, err)
		}
	}
	// The subscription learns of the change by UDP push: clients poll only
	// every 10 s when subscribed, so 5 s is enough only for a push.
	waitFor(t, 5*time.Second, "push of both instances to the subscriber", func() bool {
		m := lastSeen()
		return len(m) == 2 && m["127.0.0.11:8080"] && m["127.0.0.12:8080"]
	})

	all, err := c.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: svc})
	if err != nil || len(all) != 2 {
		t.Fatalf("SelectAllInstances: %v %+v", err, all)
	}
	if h := ips(all)["127.0.0.12:8080"]; h.Weight != 2 || !h.Enable || !h.Healthy || !h.Ephemeral || h.Metadata["zone"] != "a" || h.ClusterName != "DEFAULT" {
		t.Errorf("instance as the client sees it: %+v", h)
	}
	healthy, err := c.SelectInstances(vo.SelectInstancesParam{ServiceName: svc, HealthyOnly: true})
	if err != nil || len(healthy) != 2 {
		t.Fatalf("SelectInstances: %v %+v", err, healthy)
	}
	one, err := c.SelectOneHealthyInstance(vo.SelectOneHealthInstanceParam{ServiceName: svc})
	if err != nil || one == nil || one.Port != 8080 {
		t.Fatalf("SelectOneHealthyInstance: %v %+v", err, one)
	}
	got, err := c.GetService(vo.GetServiceParam{ServiceName: svc})
	if err != nil || got.Name != "DEFAULT_GROUP@@orders" || len(got.Hosts) != 2 {
		t.Fatalf("GetService: %v %+v", err, got)
	}
	list, err := c.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: 10})
	if err != nil || list.Count != 1 || len(list.Doms) != 1 || list.Doms[0] != svc {
		t.Fatalf("GetAllServicesInfo: %v %+v", err, list)
	}

	// Update: disable one instance; the subscriber no longer gets it.
	ok, err := c.UpdateInstance(vo.UpdateInstanceParam{Ip: "127.0.0.12", Port: 8080, ServiceName: svc, Weight: 2,
		Enable: false, Ephemeral: true, Metadata: map[string]string{"zone": "b"}})
	if err != nil || !ok {
		t.Fatalf("update: %v", err)
	}
	waitFor(t, 5*time.Second, "push after update", func() bool {
		m := lastSeen()
		_, has := m["127.0.0.12:8080"]
		return len(m) == 1 && !has
	})

	ok, err = c.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "127.0.0.11", Port: 8080, ServiceName: svc, Ephemeral: true})
	if err != nil || !ok {
		t.Fatalf("deregister: %v", err)
	}
	waitFor(t, 5*time.Second, "deregistration visible over HTTP", func() bool {
		for _, h := range p.list(t, "DEFAULT_GROUP@@"+svc) {
			if h["ip"] == "127.0.0.11" {
				return false
			}
		}
		return true
	})
}

// TestPersistentInstancesSurviveRestart registers a persistent instance
// through the client, stops the node with SIGTERM and starts it again.
func TestPersistentInstancesSurviveRestart(t *testing.T) {
	p := startSextant(t, "")
	c := newNacosClient(t, p)
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: "127.0.0.21", Port: 5432, ServiceName: "db", Weight: 1,
		Enable: true, Healthy: true, Ephemeral: false})
	if err != nil || !ok {
		t.Fatalf("register persistent: %v", err)
	}
	if err := p.stop(); err != nil {
		t.Fatalf("SIGTERM did not exit cleanly: %v\n%s", err, p.logs.String())
	}
	p.restart()
	hosts := p.list(t, "DEFAULT_GROUP@@db")
	if len(hosts) != 1 || hosts[0]["ip"] != "127.0.0.21" || hosts[0]["ephemeral"] != false {
		t.Fatalf("after restart: %+v", hosts)
	}
}

// TestClientBeatsRecreateLostInstances kills the node, restarts it with empty
// memory, and expects the client's next full beats to bring the instance back.
func TestClientBeatsRecreateLostInstances(t *testing.T) {
	p := startSextant(t, "")
	c := newNacosClient(t, p)
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: "127.0.0.31", Port: 9000, ServiceName: "cart", Weight: 1,
		Enable: true, Healthy: true, Ephemeral: true,
		// The server answers beats with this interval, which the client adopts.
		Metadata: map[string]string{"preserved.heart.beat.interval": "1000"}})
	if err != nil || !ok {
		t.Fatalf("register: %v", err)
	}
	p.kill()
	p.restart()
	waitFor(t, 10*time.Second, "instance re-created by the client's beats", func() bool {
		hosts := p.list(t, "DEFAULT_GROUP@@cart")
		return len(hosts) == 1 && hosts[0]["ip"] == "127.0.0.31" && hosts[0]["healthy"] == true
	})
}

// TestSilentInstanceTurnsUnhealthyThenGoes registers an instance whose
// client beats a few times and then stops; a real client watching the
// service sees it turn unhealthy after the beat timeout and vanish after the
// delete timeout, never before.
func TestSilentInstanceTurnsUnhealthyThenGoes(t *testing.T) {
	p := startSextant(t, "")
	watcher := newNacosClientWith(t, p, true)
	const timeout, del = 1500 * time.Millisecond, 3000 * time.Millisecond
	params := url.Values{"serviceName": {"pay"}, "ip": {"127.0.0.41"}, "port": {"7000"},
		"metadata": {fmt.Sprintf(`{"preserved.heart.beat.timeout":"%d","preserved.ip.delete.timeout":"%d"}`, timeout.Milliseconds(), del.Milliseconds())}}
	if code, body := p.do("POST", "/nacos/v1/ns/instance", params); code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	beat := url.Values{"serviceName": {"DEFAULT_GROUP@@pay"}, "ip": {"127.0.0.41"}, "port": {"7000"}}
	var lastBeat time.Time
	for i := 0; i < 3; i++ {
		if code, body := p.do("PUT", "/nacos/v1/ns/instance/beat", beat); code != 200 {
			t.Fatalf("beat: %d %s", code, body)
		}
		lastBeat = time.Now()
	}
	state := func() (present, healthy bool) {
		all, err := watcher.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "pay"})
		if err != nil {
			return false, false
		}
		for _, h := range all {
			if h.Ip == "127.0.0.41" {
				return true, h.Healthy
			}
		}
		return false, false
	}
	if present, healthy := state(); !present || !healthy {
		t.Fatalf("instance should start healthy")
	}
	// Observe through the HTTP detail endpoint, which reads the node directly.
	detail := func() (int, string) {
		return p.get("/nacos/v1/ns/instance", url.Values{"serviceName": {"pay"}, "ip": {"127.0.0.41"}, "port": {"7000"}})
	}
	var unhealthyAt, goneAt time.Time
	waitFor(t, timeout+5*time.Second, "instance to turn unhealthy", func() bool {
		code, body := detail()
		if code == 200 && strings.Contains(body, `"healthy":false`) {
			unhealthyAt = time.Now()
			return true
		}
		return false
	})
	if early := lastBeat.Add(timeout).Sub(unhealthyAt); early > 0 {
		t.Fatalf("instance turned unhealthy %v before its timeout", early)
	}
	waitFor(t, del+5*time.Second, "instance to be deleted", func() bool {
		code, _ := detail()
		if code == 404 {
			goneAt = time.Now()
			return true
		}
		return false
	})
	if early := lastBeat.Add(del).Sub(goneAt); early > 0 {
		t.Fatalf("instance deleted %v before its delete timeout", early)
	}
	t.Logf("unhealthy %v after the last beat (timeout %v); deleted after %v (timeout %v)",
		unhealthyAt.Sub(lastBeat).Round(time.Millisecond), timeout, goneAt.Sub(lastBeat).Round(time.Millisecond), del)
	waitFor(t, 15*time.Second, "the watching client to drop the instance", func() bool {
		present, _ := state()
		return !present
	})
}
