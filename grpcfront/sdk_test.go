package grpcfront

import (
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// sdkClient builds a nacos-sdk-go/v2 v2.3.2 naming client on the front.
// The HTTP port is never dialled for ephemeral work; it only has to be a
// number the SDK accepts.
func sdkClient(t *testing.T, grpcPort int, edit func(*constant.ClientConfig)) naming_client.INamingClient {
	t.Helper()
	cc := constant.ClientConfig{TimeoutMs: 5000, NotLoadCacheAtStart: true, CacheDir: t.TempDir(), LogDir: t.TempDir(),
		LogLevel: "error", UpdateCacheWhenEmpty: true}
	if edit != nil {
		edit(&cc)
	}
	cl, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: &cc,
		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: 1, GrpcPort: uint64(grpcPort)}}})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestNacosGoSDKv2(t *testing.T) {
	f := start(t, nil, nil)
	reg := sdkClient(t, f.port(), nil)
	defer reg.CloseClient()

	// Register: true, and in the catalog at once.
	ok, err := reg.RegisterInstance(vo.RegisterInstanceParam{Ip: "10.3.0.1", Port: 8080, ServiceName: "orders",
		Weight: 2, Enable: true, Healthy: true, Ephemeral: true, Metadata: map[string]string{"v": "1"}})
	if err != nil || !ok {
		t.Fatalf("RegisterInstance: %v %v", ok, err)
	}
	list := f.instances("", "", "orders")
	if len(list) != 1 || list[0].Weight != 2 || list[0].Metadata["v"] != "1" || list[0].Cluster != "DEFAULT" {
		t.Fatalf("catalog after register: %+v", list)
	}

	// A second client subscribes and gets pushes within 1 s.
	sub := sdkClient(t, f.port(), nil)
	defer sub.CloseClient()
	var mu sync.Mutex
	var seen [][]model.Instance
	err = sub.Subscribe(&vo.SubscribeParam{ServiceName: "orders", SubscribeCallback: func(s []model.Instance, err error) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sub.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "orders"})
	if err != nil || len(got) != 1 || got[0].Ip != "10.3.0.1" {
		t.Fatalf("SelectAllInstances: %+v %v", got, err)
	}
	latest := func() []model.Instance {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return nil
		}
		return seen[len(seen)-1]
	}
	start := time.Now()
	if ok, err := reg.RegisterInstance(vo.RegisterInstanceParam{Ip: "10.3.0.2", Port: 8080, ServiceName: "orders",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("second RegisterInstance: %v %v", ok, err)
	}
	waitFor(t, time.Second, "push of the second instance", func() bool { return len(latest()) == 2 })
	t.Logf("push seen %v after the register", time.Since(start))

	// Deregister one: pushed.
	if ok, err := reg.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.3.0.2", Port: 8080, ServiceName: "orders", Ephemeral: true}); err != nil || !ok {
		t.Fatalf("DeregisterInstance: %v %v", ok, err)
	}
	waitFor(t, time.Second, "push of the deregistration", func() bool { return len(latest()) == 1 })

	// Service list over gRPC.
	names, err := sub.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: 10})
	if err != nil || names.Count != 1 || len(names.Doms) != 1 || names.Doms[0] != "orders" {
		t.Fatalf("GetAllServicesInfo: %+v %v", names, err)
	}

	// Closing the registering client removes its instance within 1 s, and
	// the subscriber hears of it.
	start = time.Now()
	reg.CloseClient()
	waitFor(t, time.Second, "instances of a closed client removed", func() bool {
		return len(f.instances("", "", "orders")) == 0
	})
	waitFor(t, time.Second, "push of the removal", func() bool { return latest() != nil && len(latest()) == 0 })
	t.Logf("removal pushed %v after close", time.Since(start))
}

// TestNacosGoSDKv2RedoRace: a new client races its redo against the first
// RegisterInstance, so the same register arrives twice; both succeed and
// the instance is there once.
func TestNacosGoSDKv2RedoRace(t *testing.T) {
	f := start(t, nil, nil)
	for i := range 3 {
		cl := sdkClient(t, f.port(), nil)
		ok, err := cl.RegisterInstance(vo.RegisterInstanceParam{Ip: "10.4.0.1", Port: 9000 + uint64(i), ServiceName: "race",
			Weight: 1, Enable: true, Healthy: true, Ephemeral: true})
		if err != nil || !ok {
			t.Fatalf("RegisterInstance %d: %v %v", i, ok, err)
		}
		defer cl.CloseClient()
	}
	if n := len(f.instances("", "", "race")); n != 3 {
		t.Fatalf("%d instances, want 3", n)
	}
}
