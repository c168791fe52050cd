package nacoswire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestResolveDefaults: what a sender leaves out takes the Nacos default,
// and what it says (false, 0, a cluster) is kept.
func TestResolveDefaults(t *testing.T) {
	var bare InstanceIn
	if err := json.Unmarshal([]byte(`{"ip":"10.0.0.1","port":80}`), &bare); err != nil {
		t.Fatal(err)
	}
	want := Instance{IP: "10.0.0.1", Port: 80, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, ClusterName: DefaultCluster}
	if got := bare.Resolve(); !reflect.DeepEqual(got, want) {
		t.Errorf("bare instance resolves to %+v, want %+v", got, want)
	}
	var said InstanceIn
	body := `{"instanceId":"i","ip":"10.0.0.2","port":81,"weight":0,"healthy":false,"enabled":false,"ephemeral":false,` +
		`"clusterName":"c1","serviceName":"g@@s","metadata":{"k":"v"}}`
	if err := json.Unmarshal([]byte(body), &said); err != nil {
		t.Fatal(err)
	}
	want = Instance{InstanceID: "i", IP: "10.0.0.2", Port: 81, ClusterName: "c1", ServiceName: "g@@s", Metadata: map[string]string{"k": "v"}}
	if got := said.Resolve(); !reflect.DeepEqual(got, want) {
		t.Errorf("explicit instance resolves to %+v, want %+v", got, want)
	}
}

// TestInstanceFieldOrder: the encoded instance keeps the Nacos field order,
// which httpfront's hand-written renderer and the clients rely on.
func TestInstanceFieldOrder(t *testing.T) {
	b, err := json.Marshal(struct {
		Instance
		Timings
	}{Instance{InstanceID: "i", IP: "h", Port: 1, Weight: 2, Healthy: true, ClusterName: "c", ServiceName: "s"},
		NewTimings(5*time.Second, 15*time.Second, 30*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"instanceId":"i","ip":"h","port":1,"weight":2,"healthy":true,"enabled":false,"ephemeral":false,` +
		`"clusterName":"c","serviceName":"s","metadata":null,` +
		`"instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000}`
	if string(b) != want {
		t.Errorf("encoded as\n%s\nwant\n%s", b, want)
	}
}
