package httpfront

import (
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/clients"
	"github.com/nacos-group/nacos-sdk-go/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/common/constant"
	"github.com/nacos-group/nacos-sdk-go/model"
	"github.com/nacos-group/nacos-sdk-go/vo"

	"sextant/naming"
)

// TestNacosGoSDK drives the front with the unmodified nacos-sdk-go v1.1.4
// client over real sockets on 127.0.0.1.
func TestNacosGoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	e := newEnv(t, func(c *Config) {
		c.Push.Target = "source" // the SDK reports its first non-loopback address
		c.Push.MergeDelay = 100 * time.Millisecond
	})
	e.start()
	host, portStr, _ := net.SplitHostPort(e.s.Addr())
	port, _ := strconv.ParseUint(portStr, 10, 64)
	dir := t.TempDir()
	cli, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs:           3000,
			NotLoadCacheAtStart: true,
			CacheDir:            dir + "/cache",
			LogDir:              dir + "/log",
			LogLevel:            "error",
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: host, Port: port, ContextPath: "/nacos", Scheme: "http"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Stop the beats of anything still registered.
		for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
			cli.DeregisterInstance(vo.DeregisterInstanceParam{Ip: ip, Port: 8080, ServiceName: "demo", Ephemeral: true})
		}
	}()

	ok, err := cli.RegisterInstance(vo.RegisterInstanceParam{
		Ip: "10.0.0.1", Port: 8080, ServiceName: "demo", Weight: 10, Enable: true, Healthy: true,
		Ephemeral: true, Metadata: map[string]string{"zone": "a"},
	})
	if !ok || err != nil {
		t.Fatalf("RegisterInstance: %v %v", ok, err)
	}
	if svc := e.service(demo); svc == nil || len(svc.Instances) != 1 || svc.Instances[0].Metadata["zone"] != "a" || !svc.Instances[0].Ephemeral {
		t.Fatalf("catalog after register: %+v", svc)
	}
	// The SDK starts beating at once; its full beat must be understood.
	waitFor(t, 3*time.Second, func() bool {
		e.w.mu.Lock()
		defer e.w.mu.Unlock()
		for _, op := range e.w.ops {
			if op.Kind == naming.OpBeat && op.Instance != nil && op.Instance.IP == "10.0.0.1" {
				return true
			}
		}
		return false
	})

	all, err := cli.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "demo"})
	if err != nil || len(all) != 1 || all[0].Ip != "10.0.0.1" || all[0].Port != 8080 || all[0].Weight != 10 ||
		!all[0].Enable || !all[0].Healthy || all[0].Metadata["zone"] != "a" || all[0].ServiceName != "demo" {
		t.Fatalf("SelectAllInstances = %+v, %v", all, err)
	}
	healthy, err := cli.SelectInstances(vo.SelectInstancesParam{ServiceName: "demo", HealthyOnly: true})
	if err != nil || len(healthy) != 1 {
		t.Fatalf("SelectInstances = %+v, %v", healthy, err)
	}
	one, err := cli.SelectOneHealthyInstance(vo.SelectOneHealthInstanceParam{ServiceName: "demo"})
	if err != nil || one.Ip != "10.0.0.1" {
		t.Fatalf("SelectOneHealthyInstance = %+v, %v", one, err)
	}
	svc, err := cli.GetService(vo.GetServiceParam{ServiceName: "demo"})
	if err != nil || svc.Name != "DEFAULT_GROUP@@demo" || len(svc.Hosts) != 1 || svc.CacheMillis != 10000 || svc.LastRefTime == 0 {
		t.Fatalf("GetService = %+v, %v", svc, err)
	}
	if n := len(e.s.push.Subscribers(demo)); n != 1 {
		t.Fatalf("the SDK's query did not subscribe it for push (%d subscribers)", n)
	}

	var mu sync.Mutex
	var seen [][]model.SubscribeService
	err = cli.Subscribe(&vo.SubscribeParam{ServiceName: "demo", SubscribeCallback: func(s []model.SubscribeService, err error) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	hostsSeen := func(n int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) > 0 && len(seen[len(seen)-1]) == n
		}
	}
	waitFor(t, 2*time.Second, hostsSeen(1))

	// A change reaches the subscriber by UDP push, well before the 10 s poll.
	ok, err = cli.RegisterInstance(vo.RegisterInstanceParam{
		Ip: "10.0.0.2", Port: 8080, ServiceName: "demo", Weight: 1, Enable: true, Healthy: true, Ephemeral: true,
	})
	if !ok || err != nil {
		t.Fatalf("RegisterInstance: %v %v", ok, err)
	}
	waitFor(t, 5*time.Second, hostsSeen(2))
	waitFor(t, 2*time.Second, func() bool { return e.s.push.Stats().Succeed >= 1 })

	ok, err = cli.UpdateInstance(vo.UpdateInstanceParam{
		Ip: "10.0.0.2", Port: 8080, ServiceName: "demo", Weight: 7, Enable: true, Ephemeral: true,
		Metadata: map[string]string{"v": "2"},
	})
	if !ok || err != nil {
		t.Fatalf("UpdateInstance: %v %v", ok, err)
	}
	key := demo
	waitFor(t, 2*time.Second, func() bool {
		s := e.service(key)
		for _, in := range s.Instances {
			if in.IP == "10.0.0.2" && in.Weight == 7 && in.Metadata["v"] == "2" {
				return true
			}
		}
		return false
	})

	ok, err = cli.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.0.0.1", Port: 8080, ServiceName: "demo", Ephemeral: true})
	if !ok || err != nil {
		t.Fatalf("DeregisterInstance: %v %v", ok, err)
	}
	if s := e.service(demo); len(s.Instances) != 1 || s.Instances[0].IP != "10.0.0.2" {
		t.Fatalf("after deregister: %+v", s.Instances)
	}
	waitFor(t, 5*time.Second, hostsSeen(1))

	list, err := cli.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: 10})
	if err != nil || list.Count != 1 || len(list.Doms) != 1 || list.Doms[0] != "demo" {
		t.Fatalf("GetAllServicesInfo = %+v, %v", list, err)
	}
	var _ naming_client.INamingClient = cli
}

// TestNacosGoSDKWithCredentialsAndEveryService runs nacos-sdk-go v1.1.4
// configured with a username and password against a node with access
// control off, as many deployments are: its login gets a token, and its
// listing of every service (pageSize 2147483647, as Spring Cloud Alibaba
// and Dubbo ask) gets every service.
func TestNacosGoSDKWithCredentialsAndEveryService(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	var mu sync.Mutex
	var logins []int
	e := newEnv(t, func(c *Config) {
		c.Observe = func(route, method string, status int, _ time.Duration) {
			if strings.HasSuffix(route, "/auth/users/login") {
				mu.Lock()
				logins = append(logins, status)
				mu.Unlock()
			}
		}
	})
	e.start()
	for i, name := range []string{"orders", "users", "billing"} {
		e.register(naming.NewServiceKey("", "", name), healthyInstance("10.0.0.1", 8080+i))
	}
	host, portStr, _ := net.SplitHostPort(e.s.Addr())
	port, _ := strconv.ParseUint(portStr, 10, 64)
	dir := t.TempDir()
	cli, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs: 3000, NotLoadCacheAtStart: true, CacheDir: dir + "/cache", LogDir: dir + "/log", LogLevel: "error",
			Username: "nacos", Password: "anything",
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: host, Port: port, ContextPath: "/nacos", Scheme: "http"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := cli.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: math.MaxInt32})
	if err != nil || list.Count != 3 || !reflect.DeepEqual(list.Doms, []string{"billing", "orders", "users"}) {
		t.Fatalf("GetAllServicesInfo = %+v, %v", list, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logins) == 0 || logins[0] != 200 {
		t.Fatalf("logins answered %v, want 200", logins)
	}
}
