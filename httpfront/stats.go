package httpfront

import "sextant/httpfront/push"

// PushStats returns the UDP push counters (as /operator/push/state shows
// them; that endpoint's reset=true sets them back to zero).
func (s *Server) PushStats() push.Stats { return s.push.Stats() }

// Subscribers returns the number of UDP push subscriptions held.
func (s *Server) Subscribers() int { return s.push.Count() }
