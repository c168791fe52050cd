package httpfront

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"sextant/naming"
)

// instanceParams reads a whole instance as register sends it (the
// ephemeral default from sw).
func (s *Server) instanceParams(p *request, sw naming.Switches) (naming.ServiceKey, *naming.Instance, error) {
	key, err := p.service()
	if err != nil {
		return key, nil, err
	}
	t, err := p.target()
	if err != nil {
		return key, nil, err
	}
	w, has, err := p.weight()
	if err != nil {
		return key, nil, err
	}
	if !has {
		w = 1
	}
	enabled, err := p.boolOr(true, "enabled", "enable")
	if err != nil {
		return key, nil, err
	}
	healthy, err := p.boolOr(true, "healthy")
	if err != nil {
		return key, nil, err
	}
	ephemeral, err := p.boolOr(sw.DefaultInstanceEphemeral, "ephemeral")
	if err != nil {
		return key, nil, err
	}
	md, _, err := p.metadata("metadata")
	if err != nil {
		return key, nil, err
	}
	in := &naming.Instance{IP: t.IP, Port: t.Port, Cluster: t.Cluster, Weight: w,
		Healthy: healthy, Enabled: enabled, Ephemeral: ephemeral, Metadata: md}
	return key, in, naming.ValidateInstance(in)
}

// find returns the instance as this node sees it, or nil.
// It reads the one instance (naming.Reader.Instance), not the service's
// list, which a large service would build after every change.
func (s *Server) find(key naming.ServiceKey, t naming.InstanceKey) *naming.Instance {
	in, _ := s.r.Instance(key, t)
	return in
}

// instanceRoute is where instances are registered and deregistered.
const instanceRoute = nsPrefix + "/instance"

// registerInstance adds or replaces an instance, creating its service when
// needed; sw are the switches as the request found them.
func (s *Server) registerInstance(p *request) (naming.Op, error) {
	sw := p.sw
	key, in, err := s.instanceParams(p, sw)
	if err != nil {
		return naming.Op{}, err
	}
	return naming.Op{Kind: naming.OpRegister, Service: key, Ephemeral: in.Ephemeral, Instance: in}, nil
}

// deregisterInstance removes an instance; an absent instance is ok. The
// instance's own class wins over the ephemeral parameter, which Go
// clients often send as false for ephemeral instances.
func (s *Server) deregisterInstance(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	t, err := p.target()
	if err != nil {
		return bad(err)
	}
	eph, err := p.boolOr(true, "ephemeral")
	if err != nil {
		return bad(err)
	}
	if in := s.find(key, t); in != nil {
		eph = in.Ephemeral
	}
	err = s.applyIn(ctx, naming.Op{Kind: naming.OpDeregister, Service: key, Target: t, Ephemeral: eph})
	if err != nil && !errors.Is(err, naming.ErrNotFound) {
		return bad(err)
	}
	return okAnswer()
}

// updateInstance serves PUT /instance. Java clients ≥ 1.0.0 get a strict
// update (400 when absent); other clients an upsert, as Nacos 1.x does.
// Only weight, enabled and metadata change; health is kept.
func (s *Server) updateInstance(ctx context.Context, p *request) answer {
	key, in, err := s.instanceParams(p, s.r.Switches())
	if err != nil {
		return bad(err)
	}
	patch, err := instancePatch(p, false)
	if err != nil {
		return bad(err)
	}
	strict := p.agent.javaGrouped()
	t := in.Key()
	eph := in.Ephemeral
	cur := s.find(key, t)
	if cur != nil {
		eph = cur.Ephemeral
	}
	if cur != nil || strict {
		err := s.applyIn(ctx, naming.Op{Kind: naming.OpUpdateInstance, Service: key, Target: t, Ephemeral: eph, Patch: patch})
		switch {
		case err == nil:
			return okAnswer()
		case strict || !errors.Is(err, naming.ErrNotFound):
			return bad(err)
		}
	}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpRegister, Service: key, Ephemeral: in.Ephemeral, Instance: in}); err != nil {
		return bad(err)
	}
	return okAnswer()
}

// instancePatch reads the optional fields of an update.
func instancePatch(p *request, withHealth bool) (*naming.InstancePatch, error) {
	patch := &naming.InstancePatch{}
	w, has, err := p.weight()
	if err != nil {
		return nil, err
	}
	if has {
		patch.Weight = &w
	}
	if patch.Enabled, err = p.boolean("enabled", "enable"); err != nil {
		return nil, err
	}
	if withHealth {
		if patch.Healthy, err = p.boolean("healthy"); err != nil {
			return nil, err
		}
	}
	md, provided, err := p.metadata("metadata")
	if err != nil {
		return nil, err
	}
	if provided {
		patch.Metadata = md
	}
	return patch, nil
}

// patchInstance serves PATCH /instance: change the given fields of an
// existing instance (400 when absent).
func (s *Server) patchInstance(p *request) (naming.Op, error) {
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	t, err := p.target()
	if err != nil {
		return naming.Op{}, err
	}
	patch, err := instancePatch(p, true)
	if err != nil {
		return naming.Op{}, err
	}
	eph := true
	if in := s.find(key, t); in != nil {
		eph = in.Ephemeral
	}
	return naming.Op{Kind: naming.OpUpdateInstance, Service: key, Target: t, Ephemeral: eph, Patch: patch}, nil
}

// instanceDetail serves GET /instance.
func (s *Server) instanceDetail(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	t, err := p.target()
	if err != nil {
		return bad(err)
	}
	svc, found := s.r.Service(key)
	if !found {
		return textAnswer(http.StatusNotFound, "no service "+key.Grouped()+" found!")
	}
	if !hasCluster(svc, t.Cluster) {
		return textAnswer(http.StatusNotFound, "no ips found for cluster "+t.Cluster+" in service "+key.Grouped())
	}
	in := svc.Find(t)
	if in == nil {
		return textAnswer(http.StatusNotFound, "no matched ip found!")
	}
	body := map[string]any{
		"service":     key.Grouped(),
		"ip":          in.IP,
		"port":        in.Port,
		"clusterName": in.Cluster,
		"weight":      in.Weight,
		"healthy":     in.Healthy,
		"enabled":     in.Enabled,
		"ephemeral":   in.Ephemeral,
		"instanceId":  in.Key().ID(key),
		"metadata":    emptyIfNil(in.Metadata),
	}
	if lc := s.lastCheck(key, in); lc != nil {
		if !s.isAdmin(p) {
			// What answered a probe tells about the network the node
			// sees: administrators only.
			lc.Reason = ""
		}
		body["lastCheck"] = lc
	}
	return s.jsonAnswer(body)
}

// instanceStatuses serves /instance/statuses?key=[namespace##]group@@service.
func (s *Server) instanceStatuses(ctx context.Context, p *request) answer {
	key, err := p.statusesKey()
	if err != nil {
		return bad(err)
	}
	svc, found := s.r.Service(key)
	if !found {
		return textAnswer(http.StatusNotFound, "service: "+key.Grouped()+" not found.")
	}
	ips := make([]string, 0, len(svc.Instances))
	for _, in := range svc.Instances {
		ips = append(ips, in.Key().Addr()+"_"+strconv.FormatBool(in.Healthy))
	}
	return s.jsonAnswer(map[string]any{"ips": ips})
}
