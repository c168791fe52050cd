package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Beat constants: Nacos's "instance not found" code, the metadata key of a
// per-instance beat interval, and the shortest interval honoured.
const (
	codeNotFound     = 20404
	metaBeatInterval = "preserved.heart.beat.interval"
	minBeatInterval  = 100 * time.Millisecond
)

// registration is a RegisterParam checked and filled in.
type registration struct {
	p       RegisterParam
	grouped string
	cluster string
	weight  float64
}

func checkRegistration(p RegisterParam) (registration, error) {
	grouped, err := groupedName(p.ServiceName, p.GroupName)
	if err != nil {
		return registration{}, err
	}
	r := registration{p: p, grouped: grouped, cluster: strings.TrimSpace(p.ClusterName), weight: p.Weight}
	if r.cluster == "" {
		r.cluster = DefaultCluster
	}
	if err := checkAddr(p.IP, p.Port); err != nil {
		return registration{}, err
	}
	if r.weight == 0 {
		r.weight = 1
	}
	if r.weight < 0 || r.weight > 10000 || math.IsNaN(r.weight) {
		return registration{}, fmt.Errorf("client: weight %v must be in (0, 10000]", p.Weight)
	}
	return r, nil
}

func checkAddr(ip string, port int) error {
	if net.ParseIP(ip) == nil {
		return fmt.Errorf("client: %q is not an IP address", ip)
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("client: port %d must be between 0 and 65535", port)
	}
	return nil
}

func (r registration) key() string { return instanceKey(r.grouped, r.cluster, r.p.IP, r.p.Port) }

// params are the instance parameters of register and update.
func (r registration) params(ns, app string) (url.Values, error) {
	md := r.p.Metadata
	if md == nil {
		md = map[string]string{}
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	g, _ := splitGrouped(r.grouped)
	enabled := strconv.FormatBool(!r.p.Disabled)
	return url.Values{
		"namespaceId": {ns},
		"serviceName": {r.grouped},
		"groupName":   {g},
		"clusterName": {r.cluster},
		"ip":          {r.p.IP},
		"port":        {strconv.Itoa(r.p.Port)},
		"weight":      {strconv.FormatFloat(r.weight, 'f', -1, 64)},
		"enable":      {enabled},
		"enabled":     {enabled},
		"healthy":     {strconv.FormatBool(!r.p.Unhealthy)},
		"ephemeral":   {strconv.FormatBool(!r.p.Persistent)},
		"metadata":    {string(mdJSON)},
		"app":         {app},
	}, nil
}

// RegisterInstance registers an instance; an ephemeral one is then kept
// alive by beats until DeregisterInstance or Close.
func (c *Client) RegisterInstance(ctx context.Context, p RegisterParam) error {
	r, err := checkRegistration(p)
	if err != nil {
		return err
	}
	if c.isClosed() {
		return ErrClosed
	}
	if err := c.register(ctx, r); err != nil {
		return err
	}
	if !p.Persistent {
		c.startBeat(r)
	}
	return nil
}

func (c *Client) register(ctx context.Context, r registration) error {
	params, err := r.params(c.ns, c.cfg.AppName)
	if err != nil {
		return err
	}
	_, err = c.t.call(ctx, http.MethodPost, "/v1/ns/instance", params)
	return err
}

// UpdateInstance changes an instance's weight, enabled flag and metadata
// (PUT /instance); the beats of an ephemeral instance carry the new values.
func (c *Client) UpdateInstance(ctx context.Context, p RegisterParam) error {
	r, err := checkRegistration(p)
	if err != nil {
		return err
	}
	if c.isClosed() {
		return ErrClosed
	}
	params, err := r.params(c.ns, c.cfg.AppName)
	if err != nil {
		return err
	}
	if _, err := c.t.call(ctx, http.MethodPut, "/v1/ns/instance", params); err != nil {
		return err
	}
	if !p.Persistent && c.beats.has(r.key()) {
		c.startBeat(r)
	}
	return nil
}

// DeregisterInstance stops the instance's beats and removes it.
func (c *Client) DeregisterInstance(ctx context.Context, p DeregisterParam) error {
	grouped, err := groupedName(p.ServiceName, p.GroupName)
	if err != nil {
		return err
	}
	if err := checkAddr(p.IP, p.Port); err != nil {
		return err
	}
	cluster := strings.TrimSpace(p.ClusterName)
	if cluster == "" {
		cluster = DefaultCluster
	}
	c.beats.cancel(instanceKey(grouped, cluster, p.IP, p.Port))
	if c.isClosed() {
		return ErrClosed
	}
	g, _ := splitGrouped(grouped)
	_, err = c.t.call(ctx, http.MethodDelete, "/v1/ns/instance", url.Values{
		"namespaceId": {c.ns},
		"serviceName": {grouped},
		"groupName":   {g},
		"clusterName": {cluster},
		"ip":          {p.IP},
		"port":        {strconv.Itoa(p.Port)},
		"ephemeral":   {strconv.FormatBool(!p.Persistent)},
	})
	return err
}

// beatState is one ephemeral instance's beat; only its task touches it.
type beatState struct {
	r        registration
	interval time.Duration
	failing  bool
}

// startBeat (re)schedules the beats of r, the first after one interval.
func (c *Client) startBeat(r registration) {
	b := &beatState{r: r, interval: time.Duration(c.cfg.BeatInterval) * time.Millisecond}
	if v, err := strconv.ParseInt(r.p.Metadata[metaBeatInterval], 10, 64); err == nil && v > 0 {
		b.interval = time.Duration(v) * time.Millisecond
	}
	b.interval = max(b.interval, minBeatInterval)
	c.beats.schedule(r.key(), b.interval, func(ctx context.Context) time.Duration { return c.beat(ctx, b) })
}

// beat sends one full beat (the server re-creates a lost instance from
// it), registers again on 20404, and returns the server's interval.
func (c *Client) beat(ctx context.Context, b *beatState) time.Duration {
	r := b.r
	md := r.p.Metadata
	if md == nil {
		md = map[string]string{}
	}
	info, err := json.Marshal(map[string]any{
		"ip": r.p.IP, "port": r.p.Port, "weight": r.weight, "serviceName": r.grouped,
		"cluster": r.cluster, "metadata": md, "ephemeral": true,
		"scheduled": false, "period": b.interval.Milliseconds(), "stopped": false,
	})
	if err != nil {
		return b.interval
	}
	g, _ := splitGrouped(r.grouped)
	c.stats.beats.Add(1)
	body, err := c.t.call(ctx, http.MethodPut, "/v1/ns/instance/beat", url.Values{
		"namespaceId": {c.ns},
		"serviceName": {r.grouped},
		"groupName":   {g},
		"clusterName": {r.cluster},
		"ip":          {r.p.IP},
		"port":        {strconv.Itoa(r.p.Port)},
		"beat":        {string(info)},
	})
	log := c.log.WithFields(logrus.Fields{"service": r.grouped, "instance": r.p.IP + ":" + strconv.Itoa(r.p.Port)})
	if err != nil {
		if ctx.Err() != nil {
			return -1
		}
		c.stats.beatFailures.Add(1)
		if !b.failing {
			log.WithError(err).Warn("beat failed; retrying every interval")
		}
		b.failing = true
		return b.interval
	}
	if b.failing {
		log.Info("beat answered again")
		b.failing = false
	}
	var resp struct {
		ClientBeatInterval int64 `json:"clientBeatInterval"`
		Code               int   `json:"code"`
	}
	if json.Unmarshal(body, &resp) == nil {
		if resp.ClientBeatInterval > 0 {
			b.interval = max(time.Duration(resp.ClientBeatInterval)*time.Millisecond, minBeatInterval)
		}
		if resp.Code == codeNotFound {
			c.stats.reregistrations.Add(1)
			log.Info("server lost the instance; registering it again")
			if err := c.register(ctx, r); err != nil && !errors.Is(err, context.Canceled) {
				log.WithError(err).Warn("registering again failed")
			}
		}
	}
	return b.interval
}
