package httpfront

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"sextant/naming"
)

// Beat response codes (Nacos ResponseCode.OK, NamingResponseCode.RESOURCE_NOT_FOUND).
const (
	codeOK       = 10200
	codeNotFound = 20404
)

// beatInfo is the client's beat JSON (Nacos RsInfo).
type beatInfo struct {
	IP          string
	Port        int
	Weight      float64
	ServiceName string
	Cluster     string
	Metadata    map[string]string
	Ephemeral   bool
}

// beatWire is the beat JSON as sent; the loosely typed fields keep their
// JSON text and are decoded by hand.
type beatWire struct {
	IP, ServiceName, Cluster          string
	Port, Weight, Metadata, Ephemeral string // JSON text; "" when absent
}

// beatJSON is beatWire for encoding/json.
type beatJSON struct {
	IP          string          `json:"ip"`
	Port        json.RawMessage `json:"port"`
	Weight      json.RawMessage `json:"weight"`
	ServiceName string          `json:"serviceName"`
	Cluster     string          `json:"cluster"`
	Metadata    json.RawMessage `json:"metadata"`
	Ephemeral   json.RawMessage `json:"ephemeral"`
}

// decodeBeatWire reads the beat JSON; ok is false when it is not JSON.
func decodeBeatWire(raw string) (w beatWire, ok bool) {
	if fastBeatWire(raw, &w) {
		return w, true
	}
	var j beatJSON
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return beatWire{}, false
	}
	return beatWire{IP: j.IP, ServiceName: j.ServiceName, Cluster: j.Cluster, Port: string(j.Port),
		Weight: string(j.Weight), Metadata: string(j.Metadata), Ephemeral: string(j.Ephemeral)}, true
}

// parseBeat reads the beat parameter leniently: unknown fields are ignored,
// numbers and booleans may be strings, metadata values may be scalars, and
// ephemeral defaults to true. Anything else malformed is an ErrInvalid.
func parseBeat(raw string) (*beatInfo, error) {
	w, ok := decodeBeatWire(raw)
	return beatOf(raw, w, ok)
}

// beatOf is parseBeat given the decoded wire form.
func beatOf(raw string, w beatWire, ok bool) (*beatInfo, error) {
	if !ok || !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, invalid("beat format invalid, it must be a JSON object: %s", clip(raw))
	}
	b := &beatInfo{IP: strings.TrimSpace(w.IP), ServiceName: strings.TrimSpace(w.ServiceName),
		Cluster: strings.TrimSpace(w.Cluster), Weight: 1, Ephemeral: true}
	if b.IP == "" {
		return nil, invalid("beat format invalid: ip is required")
	}
	if err := checkIP(b.IP); err != nil {
		return nil, err
	}
	port, ok, err := beatNumber(w.Port, "port")
	if err != nil {
		return nil, err
	}
	if !ok || port != math.Trunc(port) || port < 0 || port > 65535 {
		return nil, invalid("beat format invalid: port must be an integer between 0 and 65535")
	}
	b.Port = int(port)
	if wt, ok, err := beatNumber(w.Weight, "weight"); err != nil {
		return nil, err
	} else if ok {
		if err := checkWeight(wt); err != nil {
			return nil, err
		}
		b.Weight = wt
	}
	if b.Metadata, err = beatMetadata(w.Metadata); err != nil {
		return nil, err
	}
	if e := unquote(w.Ephemeral); e != "" && e != "null" {
		v, ok := naming.ParseBool(e)
		if !ok {
			return nil, invalid("beat format invalid: ephemeral must be true or false")
		}
		b.Ephemeral = v
	}
	return b, nil
}

// unquote returns a raw JSON scalar as text: a string's content, or the
// literal itself.
func unquote(raw string) string {
	if len(raw) > 0 && raw[0] == '"' {
		j := jsonScan{s: raw}
		if s, ok := j.str(); ok && j.i == len(raw) {
			return strings.TrimSpace(s)
		}
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			return strings.TrimSpace(s)
		}
	}
	return raw
}

func beatNumber(raw string, k string) (float64, bool, error) {
	s := unquote(raw)
	if s == "" || s == "null" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, invalid("beat format invalid: %s must be a number", k)
	}
	return f, true, nil
}

// beatMetadata reads the metadata object (or a metadata string, as the
// metadata parameter would be).
func beatMetadata(raw string) (map[string]string, error) {
	switch {
	case len(raw) == 0 || raw == "null":
		return map[string]string{}, nil
	case raw[0] == '"':
		md, _, err := parseMetadata(unquote(raw))
		return md, err
	case raw[0] != '{':
		return nil, invalid("beat format invalid: metadata must be an object")
	}
	if md, ok := flatStrings(raw); ok {
		return md, nil
	}
	var md map[string]string
	if json.Unmarshal([]byte(raw), &md) == nil {
		return emptyIfNil(md), nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("beat format invalid: metadata must be an object")
	}
	return stringMap(m)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// beatInterval is the interval a client should beat at: the instance's
// own preserved.heart.beat.interval when set, else the switch.
func beatInterval(md map[string]string, sw naming.Switches) int64 {
	if v, ok := md[naming.MetaBeatInterval]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return naming.TimingsOf(md).Interval.Milliseconds()
		}
	}
	return sw.ClientBeatInterval
}

// beatRoute is where clients send beats.
const beatRoute = nsPrefix + "/instance/beat"

// beat answers a beat: a full beat (the beat JSON) re-creates a
// missing instance; a light beat (ip, port, clusterName parameters) for a
// missing instance answers code 20404 so the client registers again. sw
// are the switches as the request found them.
func (s *Server) beat(ctx context.Context, p *request) answer {
	sw := p.sw
	var bi *beatInfo
	if raw := p.get("beat"); raw != "" {
		var err error
		if bi, err = parseBeat(raw); err != nil {
			return bad(err)
		}
	}
	name := p.first("serviceName", "dom")
	if name == "" && bi != nil {
		name = bi.ServiceName
	}
	if name == "" {
		return bad(invalid("Param 'serviceName' is required."))
	}
	key := naming.NewServiceKey(p.get("namespaceId"), p.get("groupName"), name)
	if err := key.Validate(); err != nil {
		return bad(err)
	}
	var t naming.InstanceKey
	var full *naming.Instance
	if bi != nil {
		cluster := bi.Cluster
		if cluster == "" {
			var err error
			if cluster, err = p.cluster(); err != nil {
				return bad(err)
			}
		}
		t = naming.InstanceKey{IP: bi.IP, Port: bi.Port, Cluster: cluster}
		full = &naming.Instance{IP: bi.IP, Port: bi.Port, Cluster: cluster, Weight: bi.Weight,
			Healthy: true, Enabled: true, Ephemeral: bi.Ephemeral, Metadata: bi.Metadata}
		if err := naming.ValidateInstance(full); err != nil {
			return bad(err)
		}
	} else {
		var err error
		if t, err = p.target(); err != nil {
			return bad(err)
		}
	}
	md := map[string]string(nil)
	if cur := s.find(key, t); cur != nil {
		md = cur.Metadata
	} else if full != nil {
		md = full.Metadata
	}
	interval := beatInterval(md, sw)
	err := s.applyIn(ctx, naming.Op{Kind: naming.OpBeat, Service: key, Target: t, Instance: full, Ephemeral: true})
	switch {
	case errors.Is(err, naming.ErrNotFound):
		return beatBody(interval, codeNotFound, nil)
	case err != nil:
		return bad(err)
	}
	return beatBody(interval, codeOK, &sw.LightBeatEnabled)
}

// beatBody is {"clientBeatInterval":N,"code":C[,"lightBeatEnabled":B]}.
func beatBody(interval int64, code int, light *bool) answer {
	b := make([]byte, 0, 80)
	b = append(b, `{"clientBeatInterval":`...)
	b = strconv.AppendInt(b, interval, 10)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	if light != nil {
		b = append(b, `,"lightBeatEnabled":`...)
		b = strconv.AppendBool(b, *light)
	}
	b = append(b, '}')
	return answer{status: http.StatusOK, json: true, body: b}
}
