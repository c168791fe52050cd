package grpcfront

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"sextant/nacoswire"
	"sextant/naming"
)

// The naming requests. Each is the same operation as on the HTTP front:
// one naming.Op per change through the Writer, reads from the Reader.

func (s *Server) apply(ctx context.Context, op naming.Op) error {
	// A request whose client set a deadline (the SDKs do, 3 s) has a
	// context that ends by then: a second timer would change nothing.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > s.cfg.ApplyTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ApplyTimeout)
		defer cancel()
	}
	return s.w.Apply(ctx, op)
}

// serviceKey reads the service a request names; blank namespace is public,
// blank group DEFAULT_GROUP.
func serviceKey(base request) (naming.ServiceKey, error) {
	k := naming.NewServiceKey(base.Namespace, base.GroupName, base.ServiceName)
	return k, k.Validate()
}

// toInstance reads an instance as clients send it: an empty clusterName is
// DEFAULT, absent weight 1, absent healthy/enabled/ephemeral true.
func toInstance(w *nacoswire.InstanceIn) (*naming.Instance, error) {
	if w == nil {
		return nil, naming.Errorf(naming.ErrInvalid, "Param 'instance' is required.")
	}
	t := *w
	t.ClusterName = strings.TrimSpace(t.ClusterName)
	r := t.Resolve()
	in := &naming.Instance{IP: strings.TrimSpace(r.IP), Port: r.Port, Cluster: r.ClusterName,
		Weight: r.Weight, Healthy: r.Healthy, Enabled: r.Enabled, Ephemeral: r.Ephemeral, Metadata: r.Metadata}
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	return in, naming.ValidateInstance(in)
}

// hostOf renders an instance of service key (grouped is its grouped
// name); healthy overrides its health (the protect threshold lists every
// host as healthy).
func hostOf(in *naming.Instance, key naming.ServiceKey, grouped string, healthy bool) outHost {
	t := naming.TimingsOf(in.Metadata)
	md := in.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return outHost{
		Instance: nacoswire.Instance{InstanceID: in.Key().ID(key), IP: in.IP, Port: in.Port, Weight: in.Weight,
			Healthy: healthy, Enabled: in.Enabled, Ephemeral: in.Ephemeral,
			ClusterName: in.Cluster, ServiceName: grouped, Metadata: md},
		Timings: nacoswire.NewTimings(t.Interval, t.Timeout, t.Delete),
	}
}

// decode reads a request body into v; a body of the wrong shape is a
// parse failure (502).
func decode(p *Payload, v any) error {
	if err := json.Unmarshal(p.Body, v); err != nil {
		return errParse{err}
	}
	return nil
}

type errParse struct{ err error }

func (e errParse) Error() string { return "request body does not parse: " + e.err.Error() }

// failedReq answers a failed request as an ErrorResponse.
func failedReq(err error, id string) (string, any) {
	var pe errParse
	if errors.As(err, &pe) {
		return typeError, withID(failResponse(codeParse, err.Error()), id)
	}
	return failed(err, id)
}

// refusal is an answer a naming request ends with before doing anything.
type refusal struct {
	typ  string
	body any
}

// baser is every request body: they all embed request.
type baser interface{ common() request }

func (r *request) common() request { return *r }

// begin runs what every naming request starts with: the body into v (read
// once), readiness and access (refusals of type respType), and, when keyed,
// the service the request names.
func (s *Server) begin(p *Payload, respType string, write, keyed bool, v baser) (naming.ServiceKey, request, *refusal) {
	if err := decode(p, v); err != nil {
		t, b := failedReq(err, "")
		return naming.ServiceKey{}, request{}, &refusal{t, b}
	}
	base := v.common()
	if t, b, ok := s.check(p, base, respType, write); !ok {
		return naming.ServiceKey{}, base, &refusal{t, b}
	}
	if !keyed {
		return naming.ServiceKey{}, base, nil
	}
	key, err := serviceKey(base)
	if err != nil {
		t, b := failedReq(err, base.RequestID)
		return key, base, &refusal{t, b}
	}
	return key, base, nil
}

func (s *Server) instance(ctx context.Context, c *conn, p *Payload) (string, any) {
	return s.instanceRequest(ctx, c, p, false)
}

// persistentInstance serves PersistentInstanceRequest (Java 2.3+): the
// instances are not bound to the connection.
func (s *Server) persistentInstance(ctx context.Context, c *conn, p *Payload) (string, any) {
	return s.instanceRequest(ctx, c, p, true)
}

// instanceRequest registers or deregisters one instance: an ephemeral one
// bound to c, or a persistent one.
func (s *Server) instanceRequest(ctx context.Context, c *conn, p *Payload, persistent bool) (string, any) {
	var req instanceRequest
	key, base, no := s.begin(p, typeInstanceResp, true, true, &req)
	if no != nil {
		return no.typ, no.body
	}
	in, err := toInstance(req.Instance)
	if err != nil {
		return failedReq(err, base.RequestID)
	}
	switch {
	case persistent && req.Type == "registerInstance":
		in.Ephemeral = false
		err = s.apply(ctx, naming.Op{Kind: naming.OpRegister, Service: key, Instance: in})
	case persistent && req.Type == "deregisterInstance":
		err = s.apply(ctx, naming.Op{Kind: naming.OpDeregister, Service: key, Target: in.Key()})
		if errors.Is(err, naming.ErrNotFound) {
			err = nil
		}
	case req.Type == "registerInstance" && !in.Ephemeral:
		err = naming.Errorf(naming.ErrInvalid, "InstanceRequest registers ephemeral instances only; send persistent ones with PersistentInstanceRequest or over HTTP")
	case req.Type == "registerInstance":
		err = s.registerBound(ctx, c, key, in)
	case req.Type == "deregisterInstance":
		err = s.deregisterBound(ctx, c, key, in.Key())
	default:
		err = naming.Errorf(naming.ErrInvalid, "unknown %s type %q", p.Type, req.Type)
	}
	return instanceAnswer(typeInstanceResp, req.Type, err, base.RequestID)
}

// instanceAnswer is the answer to a write: the reply type naming the
// request's type on success, an ErrorResponse otherwise.
func instanceAnswer(respType, typ string, err error, id string) (string, any) {
	if err != nil {
		return failedReq(err, id)
	}
	return respType, instanceResponse{response: withID(okResponse(), id), Type: typ}
}

func (s *Server) batchInstance(ctx context.Context, c *conn, p *Payload) (string, any) {
	var req batchInstanceRequest
	key, base, no := s.begin(p, typeBatchInstanceResp, true, true, &req)
	if no != nil {
		return no.typ, no.body
	}
	list := make([]*naming.Instance, 0, len(req.Instances))
	for _, w := range req.Instances {
		in, err := toInstance(w)
		if err == nil && !in.Ephemeral {
			err = naming.Errorf(naming.ErrInvalid, "BatchInstanceRequest registers ephemeral instances only")
		}
		if err != nil {
			return failedReq(err, base.RequestID)
		}
		list = append(list, in)
	}
	var err error
	switch req.Type {
	case "batchRegisterInstance":
		err = s.batchRegister(ctx, c, key, list)
	case "batchDeregisterInstance":
		for _, in := range list {
			if err = s.deregisterBound(ctx, c, key, in.Key()); err != nil {
				break
			}
		}
	default:
		err = naming.Errorf(naming.ErrInvalid, "unknown BatchInstanceRequest type %q", req.Type)
	}
	return instanceAnswer(typeBatchInstanceResp, req.Type, err, base.RequestID)
}

func (s *Server) subscribe(_ context.Context, c *conn, p *Payload) (string, any) {
	var req subscribeRequest
	key, base, no := s.begin(p, typeSubscribeResp, false, true, &req)
	if no != nil {
		return no.typ, no.body
	}
	k := subKey{svc: key, clusters: req.Clusters}
	if req.Subscribe {
		// Subscribed before the answer is rendered, so no change falls
		// between the two.
		if err := s.subscribeConn(c, k); err != nil {
			return failedReq(err, base.RequestID)
		}
	} else {
		s.unsubscribeConn(c, k)
	}
	info := s.render(key, req.Clusters, false)
	return typeSubscribeResp, serviceInfoResponse{response: withID(okResponse(), base.RequestID), ServiceInfo: info}
}

func (s *Server) serviceQuery(_ context.Context, _ *conn, p *Payload) (string, any) {
	var req serviceQueryRequest
	key, base, no := s.begin(p, typeServiceQueryResp, false, true, &req)
	if no != nil {
		return no.typ, no.body
	}
	info := s.render(key, req.Cluster, req.HealthyOnly)
	return typeServiceQueryResp, serviceInfoResponse{response: withID(okResponse(), base.RequestID), ServiceInfo: info}
}

// serviceList answers the bare names of a namespace's services in one
// group, a page at a time (pageNo from 1; pageSize default 10).
func (s *Server) serviceList(_ context.Context, _ *conn, p *Payload) (string, any) {
	var req serviceListRequest
	_, base, no := s.begin(p, typeServiceListResp, false, false, &req)
	if no != nil {
		return no.typ, no.body
	}
	ns, group := base.Namespace, base.GroupName
	if ns == "" {
		ns = naming.DefaultNamespace
	}
	if group == "" {
		group = naming.DefaultGroup
	}
	all := s.r.Services(ns, group)
	size := req.PageSize
	if size <= 0 {
		size = 10
	}
	page := max(req.PageNo, 1)
	names := []string{}
	if from := (page - 1) * size; from >= 0 && from < len(all) && from/size == page-1 {
		for _, svc := range all[from:min(from+size, len(all))] {
			names = append(names, svc.Key.Name)
		}
	}
	return typeServiceListResp, serviceListResponse{response: withID(okResponse(), base.RequestID), Count: len(all), ServiceNames: names}
}
