package httpfront

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"sextant/naming"
)

// batchTarget is one element of the instances parameter of metadata/batch.
type batchTarget struct {
	IP          string          `json:"ip"`
	Port        json.RawMessage `json:"port"`
	ClusterName string          `json:"clusterName"`
}

// batchMetadata serves PUT (merge keys) and DELETE (remove keys)
// /instance/metadata/batch. instances is a JSON array of
// {ip, port, clusterName}; blank means every instance of the service.
// consistencyType "ephemeral" or "persist" limits the class; blank is both.
func (s *Server) batchMetadata(remove bool) handler {
	return func(ctx context.Context, p *request) answer {
		key, err := p.service()
		if err != nil {
			return bad(err)
		}
		if _, err := p.required("metadata"); err != nil {
			return bad(err)
		}
		md, _, err := p.metadata("metadata")
		if err != nil {
			return bad(err)
		}
		var targets []batchTarget
		if raw := p.get("instances"); raw != "" {
			if err := json.Unmarshal([]byte(raw), &targets); err != nil {
				return bad(invalid("Param 'instances' is illegal, it must be a JSON array of {ip, port, clusterName}: %v", err))
			}
		}
		class := p.get("consistencyType")
		svc, found := s.r.Service(key)
		if !found {
			return bad(naming.Errorf(naming.ErrNotFound, "service %s is not found!", key.Grouped()))
		}
		updated := []string{}
		for _, in := range svc.Instances {
			if !classMatches(class, in.Ephemeral) || !targeted(targets, in) {
				continue
			}
			next := make(map[string]string, len(in.Metadata)+len(md))
			for k, v := range in.Metadata {
				next[k] = v
			}
			for k, v := range md {
				if remove {
					delete(next, k)
				} else {
					next[k] = v
				}
			}
			op := naming.Op{Kind: naming.OpUpdateInstance, Service: key, Target: in.Key(), Ephemeral: in.Ephemeral,
				Patch: &naming.InstancePatch{Metadata: next}}
			if err := s.applyIn(ctx, op); err != nil {
				return bad(err)
			}
			cls := "persist"
			if in.Ephemeral {
				cls = "ephemeral"
			}
			updated = append(updated, in.IP+":"+strconv.Itoa(in.Port)+":unknown:"+in.Cluster+":"+cls)
		}
		return s.jsonAnswer(map[string]any{"updated": updated})
	}
}

func classMatches(class string, ephemeral bool) bool {
	switch strings.ToLower(class) {
	case "ephemeral":
		return ephemeral
	case "persist", "persistent":
		return !ephemeral
	}
	return true
}

func targeted(ts []batchTarget, in *naming.Instance) bool {
	if len(ts) == 0 {
		return true
	}
	for _, t := range ts {
		port := strings.Trim(string(t.Port), `"`)
		if t.IP == in.IP && port == strconv.Itoa(in.Port) && (t.ClusterName == "" || t.ClusterName == in.Cluster) {
			return true
		}
	}
	return false
}
