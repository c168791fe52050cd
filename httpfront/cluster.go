package httpfront

import (
	"encoding/json"
	"strconv"
	"strings"

	"sextant/naming"
)

// healthCheckerParam is the healthChecker JSON of PUT /cluster.
type healthCheckerParam struct {
	Type          string          `json:"type"`
	Path          string          `json:"path"`
	Headers       string          `json:"headers"`
	ExpectedCodes json.RawMessage `json:"expectedResponseCode"`
}

func parseHealthChecker(raw string) (naming.HealthChecker, error) {
	var hp healthCheckerParam
	if err := json.Unmarshal([]byte(raw), &hp); err != nil || hp.Type == "" {
		return naming.HealthChecker{}, invalid("Param 'healthChecker' is illegal, it must be JSON like {\"type\":\"TCP\"}: %s", clip(raw))
	}
	hc := naming.HealthChecker{Type: strings.ToUpper(hp.Type), Path: hp.Path, Headers: hp.Headers}
	if len(hp.ExpectedCodes) > 0 && string(hp.ExpectedCodes) != "null" {
		hc.ExpectedCodes = strings.Trim(string(hp.ExpectedCodes), `"`)
	}
	if hc.Type == "HTTP" {
		if err := naming.CheckNoReservedHeaders(hc.Headers); err != nil {
			return naming.HealthChecker{}, err
		}
	}
	return hc, nil
}

// updateCluster serves PUT /cluster: set one cluster's health check and
// metadata. checkPort, useInstancePort4Check and the probe settings
// (checkSettingsParams) keep their current values when absent.
func (s *Server) updateCluster(p *request) (naming.Op, error) {
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	name, err := p.required("clusterName")
	if err != nil {
		return naming.Op{}, err
	}
	if err := naming.ValidateClusterName(name); err != nil {
		return naming.Op{}, err
	}
	raw, err := p.required("healthChecker")
	if err != nil {
		return naming.Op{}, err
	}
	hc, err := parseHealthChecker(raw)
	if err != nil {
		return naming.Op{}, err
	}
	svc, found := s.r.Service(key)
	if !found {
		return naming.Op{}, naming.Errorf(naming.ErrNotFound, "service %s not found!", key.Grouped())
	}
	cc := svc.Meta.Cluster(name)
	cc.Name = name
	cc.HealthChecker = hc
	if v := p.get("checkPort"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return naming.Op{}, invalid("Param 'checkPort' is illegal, it must be an integer between 0 and 65535: %q", v)
		}
		cc.CheckPort = n
	}
	if b, err := p.boolean("useInstancePort4Check"); err != nil {
		return naming.Op{}, err
	} else if b != nil {
		cc.UseInstancePortToCheck = *b
	}
	if err := checkSettingsParams(p, &cc.Check); err != nil {
		return naming.Op{}, err
	}
	md, provided, err := p.metadata("metadata")
	if err != nil {
		return naming.Op{}, err
	}
	if provided || cc.Metadata == nil {
		cc.Metadata = md
	}
	return naming.Op{Kind: naming.OpUpdateCluster, Service: key, Cluster: &cc}, nil
}
