package httpfront

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// slowBeatWire decodes the beat JSON with encoding/json only.
func slowBeatWire(raw string) (beatWire, bool) {
	var j beatJSON
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return beatWire{}, false
	}
	return beatWire{IP: j.IP, ServiceName: j.ServiceName, Cluster: j.Cluster, Port: string(j.Port),
		Weight: string(j.Weight), Metadata: string(j.Metadata), Ephemeral: string(j.Ephemeral)}, true
}

var beatSeeds = []string{
	`{"ip":"10.0.0.1","port":8080,"weight":1,"serviceName":"DEFAULT_GROUP@@demo","cluster":"","metadata":{},"scheduled":false}`,
	`{"cluster":"DEFAULT","ip":"10.0.0.1","metadata":{"zone":"a","v":"1.2"},"period":5000,"port":8080,"scheduled":false,"serviceName":"g@@demo","stopped":false,"weight":1.0}`,
	` {"ip":"10.0.0.1","port":"8080","ephemeral":"false"} `, `{"ip":"10.0.0.1","port":8080,"ephemeral":false,"weight":null}`,
	`{"ip":"10.0.0.1","port":80,"metadata":{"a":1,"b":true,"c":null}}`, `{"ip":"10.0.0.1","port":80,"metadata":"a=b,c=d"}`,
	`{"IP":"10.0.0.1","port":80}`, `{"ip":"10.0.0.1","Port":80,"port":81}`, `{"ip":"a\u0062","port":1}`, `{"ip":"é","port":1}`,
	`{"ip":"10.0.0.1","port":8080,"x":[1,{"a":[]},"s"],"y":{"z":{"w":1}}}`, `{"ip":"10.0.0.1","port":01}`, `{"ip":"1","port":1.}`,
	`{"ip":"10.0.0.1","port":1e3,"weight":-0.5E-1}`, `{"ip":"10.0.0.1","port":80}x`, `{"ip":"10.0.0.1","port":80}}`, `[1]`, `"s"`, ``,
	`{"ip":"10.0.0.1","ip":"10.0.0.2","port":1}`, `{"ip":1,"port":1}`, `{"ip":null,"port":1}`, `{"serviceName":"\u00e9","ip":"1.1.1.1","port":1}`,
	"{\"ip\":\"\xff\",\"port\":1}", `{"ip":"10.0.0.1","port":80,"metadata":{"k":"v","k":"w"}}`, `{"ip":"10.0.0.1","port":80,"ſervicename":"x"}`,
	`{"ip":"10.0.0.1","port":80,"metadata":{"k":"a\"b"}}`, `{"ip" : "10.0.0.1" , "port" : 80 }`, `{"ip":"10.0.0.1","port":tru}`,
}

func TestFastBeatWireAgreesWithEncodingJSON(t *testing.T) {
	fastOK := 0
	for _, raw := range beatSeeds {
		if checkBeatAgrees(t, raw) {
			fastOK++
		}
	}
	t.Logf("%d of %d beats read without encoding/json", fastOK, len(beatSeeds))
	// The shapes clients send take the fast path.
	var w beatWire
	if !fastBeatWire(beatSeeds[0], &w) || !fastBeatWire(beatSeeds[1], &w) {
		t.Fatal("the beats of the Go and Java clients must take the fast path")
	}
}

// checkBeatAgrees fails t when the fast reader accepts raw and disagrees
// with encoding/json, or when parseBeat answers otherwise than it would
// with encoding/json alone. It reports whether the fast reader took raw.
func checkBeatAgrees(t *testing.T, raw string) bool {
	t.Helper()
	var fw beatWire
	fast := fastBeatWire(raw, &fw)
	sw, slowOK := slowBeatWire(raw)
	if fast {
		if !slowOK {
			t.Fatalf("%q: fast reader accepted what encoding/json refuses", raw)
		}
		norm := func(w beatWire) beatWire {
			for _, f := range []*string{&w.Port, &w.Weight, &w.Metadata, &w.Ephemeral} {
				if *f == "null" {
					*f = "" // both mean absent to beatOf
				}
			}
			return w
		}
		if norm(fw) != norm(sw) {
			t.Fatalf("%q:\nfast %+v\njson %+v", raw, fw, sw)
		}
	}
	gotB, gotErr := parseBeat(raw)
	wantB, wantErr := beatOf(raw, sw, slowOK)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q: error %v, encoding/json alone gives %v", raw, gotErr, wantErr)
	}
	if !reflect.DeepEqual(gotB, wantB) {
		t.Fatalf("%q: %+v, encoding/json alone gives %+v", raw, gotB, wantB)
	}
	return fast
}

func FuzzFastBeatWire(f *testing.F) {
	for _, s := range beatSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkBeatAgrees(t, raw) })
}

var metadataSeeds = []string{
	`{}`, `{"a":"b"}`, `{"zone":"a","version":"1.2.3"}`, ` { "a" : "b" , "c":"d" } `, `{"a":"b"}}`, `{"a":"b"} x`,
	`{"a":1}`, `{"a":"b","a":"c"}`, `{"a":"\u0041"}`, `{"é":"ü"}`, "{\"a\":\"\xfe\"}", `{"a":"b",}`, `{"a":{"b":"c"}}`, `{"":""}`,
}

func TestFlatStringsAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range metadataSeeds {
		checkFlatAgrees(t, s)
	}
	if _, ok := flatStrings(`{"zone":"a","version":"1.2.3"}`); !ok {
		t.Fatal("plain metadata must take the fast path")
	}
}

func checkFlatAgrees(t *testing.T, s string) {
	t.Helper()
	md, ok := flatStrings(s)
	if ok {
		want, err := metadataJSON(strings.TrimSpace(s))
		if err != nil || !reflect.DeepEqual(md, want) {
			t.Fatalf("%q: fast %v, metadataJSON %v %v", s, md, want, err)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil || !reflect.DeepEqual(md, emptyIfNil(m)) {
			t.Fatalf("%q: fast %v, json.Unmarshal %v %v", s, md, m, err)
		}
	}
	// parseMetadata answers as before whatever the path.
	got, gp, gerr := parseMetadata(s)
	want, wp, werr := parseMetadataJSONOnly(s)
	if gp != wp || (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: parseMetadata %v %v %v, without the fast path %v %v %v", s, got, gp, gerr, want, wp, werr)
	}
}

// parseMetadataJSONOnly is parseMetadata without flatStrings.
func parseMetadataJSONOnly(raw string) (map[string]string, bool, error) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "{") {
		md, err := metadataJSON(s)
		if err != nil {
			return nil, false, err
		}
		return md, true, nil
	}
	return parseMetadata(raw)
}

func FuzzFlatStrings(f *testing.F) {
	for _, s := range metadataSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFlatAgrees(t, s) })
}

func TestUnquoteAgreesWithEncodingJSON(t *testing.T) {
	for _, raw := range []string{`"a"`, `" a "`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\xff\"", `"a"b"`, `"`, `12`, `null`, `""`} {
		want := raw
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if json.Unmarshal([]byte(raw), &s) == nil {
				want = strings.TrimSpace(s)
			}
		}
		if got := unquote(raw); got != want {
			t.Errorf("unquote(%q) = %q, want %q", raw, got, want)
		}
	}
}
