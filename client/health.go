package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// ServerHealthy reports whether a server answers GET
// /v1/ns/operator/metrics with status UP.
func (c *Client) ServerHealthy(ctx context.Context) bool {
	body, err := c.t.call(ctx, http.MethodGet, "/v1/ns/operator/metrics", nil)
	if err != nil {
		return false
	}
	var m struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(body, &m) == nil && m.Status == "UP"
}
