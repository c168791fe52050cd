package healthcheck

import (
	"testing"
	"time"

	"sextant/naming"
)

func TestPlanService(t *testing.T) {
	short := map[string]string{naming.MetaBeatTimeout: "3000", naming.MetaDeleteTimeout: "6000"}
	const s = time.Second
	for _, tc := range []struct {
		name      string
		ephemeral bool
		unhealthy bool // marked unhealthy before planning
		md        map[string]string
		beat      time.Duration // last beat
		now       time.Duration
		since     time.Duration // ownership gained; -1 = no grace
		want      naming.OpKind // 0 = no op
	}{
		{"fresh", true, false, nil, 0, 1 * s, -1, 0},
		{"at timeout", true, false, nil, 0, 15 * s, -1, 0},
		{"past timeout", true, false, nil, 0, 15*s + time.Millisecond, -1, naming.OpSetHealth},
		{"already unhealthy", true, true, nil, 0, 20 * s, -1, 0},
		{"at delete", true, true, nil, 0, 30 * s, -1, 0},
		{"past delete", true, true, nil, 0, 30*s + time.Millisecond, -1, naming.OpDeregister},
		{"past delete while healthy", true, false, nil, 0, 40 * s, -1, naming.OpDeregister},
		{"recent beat", true, false, nil, 10 * s, 24 * s, -1, 0},
		{"override timeout", true, false, short, 0, 3*s + time.Millisecond, -1, naming.OpSetHealth},
		{"override delete", true, true, short, 0, 6*s + time.Millisecond, -1, naming.OpDeregister},
		{"persistent", false, false, nil, 0, time.Hour, -1, 0},
		{"persistent unhealthy", false, true, nil, 0, time.Hour, -1, 0},
		{"grace", true, false, nil, 0, 20 * s, 10 * s, 0},
		{"grace over", true, false, nil, 0, 25*s + time.Millisecond, 10 * s, naming.OpSetHealth},
		{"grace delete", true, true, nil, 0, 40*s + time.Millisecond, 10 * s, naming.OpDeregister},
		{"grace older than beat", true, false, nil, 10 * s, 25*s + time.Millisecond, 5 * s, naming.OpSetHealth},
		{"clock behind beat", true, false, nil, 10 * s, 5 * s, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat := naming.NewCatalog()
			ik := register(t, cat, svc, "10.0.0.1", tc.ephemeral, tc.md, tc.beat)
			if tc.unhealthy {
				if err := cat.Apply(naming.Op{Kind: naming.OpSetHealth, Time: ms(tc.beat), Service: svc,
					Target: ik, Ephemeral: tc.ephemeral, Healthy: false}); err != nil {
					t.Fatal(err)
				}
			}
			view, _ := cat.Service(svc)
			var since int64
			if tc.since >= 0 {
				since = ms(tc.since)
			}
			ops := PlanService(view, ms(tc.now), since, nil)
			if tc.want == 0 {
				if len(ops) != 0 {
					t.Fatalf("want no op, got %+v", ops)
				}
				return
			}
			if len(ops) != 1 {
				t.Fatalf("want one %v, got %+v", tc.want, ops)
			}
			op := ops[0]
			if op.Kind != tc.want || op.Service != svc || op.Target != ik || !op.Ephemeral ||
				op.ExpectBeat != ms(tc.beat) || op.Time != ms(tc.now) {
				t.Fatalf("op %+v", op)
			}
			if err := op.Validate(); err != nil {
				t.Fatalf("planned op is invalid: %v", err)
			}
			if op.Kind == naming.OpSetHealth && (op.Healthy || op.Check == nil || op.Check.Time != ms(tc.now) || op.Check.Reason == "") {
				t.Fatalf("set-health op %+v check %+v", op, op.Check)
			}
		})
	}
}

func TestPlanAcrossServices(t *testing.T) {
	cat := naming.NewCatalog()
	a := naming.NewServiceKey("", "", "a")
	b := naming.NewServiceKey("dev", "g", "b")
	register(t, cat, a, "10.0.0.1", true, nil, 0)
	register(t, cat, a, "10.0.0.2", true, nil, 10*time.Second)
	register(t, cat, a, "10.0.0.3", false, nil, 0)
	register(t, cat, b, "10.0.0.4", true, nil, 0)
	svcs := cat.Services("", "")

	ops := plan(svcs, ms(31*time.Second), true)
	got := map[string]naming.OpKind{}
	for _, op := range ops {
		got[op.Service.Name+"/"+op.Target.IP] = op.Kind
	}
	want := map[string]naming.OpKind{"a/10.0.0.1": naming.OpDeregister, "a/10.0.0.2": naming.OpSetHealth, "b/10.0.0.4": naming.OpDeregister}
	if len(got) != len(want) || len(ops) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	if ops := plan(svcs, ms(time.Hour), false); ops != nil {
		t.Fatalf("switch off: got %+v", ops)
	}
	if ops := plan(nil, ms(time.Hour), true); len(ops) != 0 {
		t.Fatalf("no services: got %+v", ops)
	}
}

// plan returns the ops that a sweep at now (Unix ms) must apply to svcs,
// all of which the caller is responsible for: for each ephemeral instance
// whose beat timeout has passed, an OpSetHealth to unhealthy; for each whose
// delete timeout has passed, an OpDeregister. It returns nil when enabled
// (the healthCheckEnabled switch) is false. It applies no ownership grace;
// see PlanService.
func plan(svcs []*naming.Service, now int64, enabled bool) []naming.Op {
	if !enabled {
		return nil
	}
	var ops []naming.Op
	for _, s := range svcs {
		ops = PlanService(s, now, 0, ops)
	}
	return ops
}
