package naming

// Selection is the result of choosing which instances a reader sees.
type Selection struct {
	// Instances chosen, in the catalog's order (sorted by id).
	Instances []*Instance
	// Protected is true when the service's protect threshold was reached, so
	// unhealthy instances were included and should be presented as healthy.
	Protected bool
}

// Select returns the enabled instances of the given clusters (all clusters
// when none are named). When healthyOnly is set, only healthy ones are kept,
// unless the share of healthy instances is below the protect threshold, in
// which case every enabled instance is returned and Protected is set.
//
// Sextant compares with "<" where Nacos uses "<=": a threshold of 0 turns
// protection off instead of returning dead instances when all are dead.
func (s *Service) Select(clusters []string, healthyOnly bool) Selection {
	var all []*Instance
	healthy := 0
	for in := range s.All() {
		if !in.Enabled || !inClusters(in.Cluster, clusters) {
			continue
		}
		all = append(all, in)
		if in.Healthy {
			healthy++
		}
	}
	if len(all) == 0 {
		return Selection{}
	}
	if float64(healthy)/float64(len(all)) < s.Meta.ProtectThreshold {
		return Selection{Instances: all, Protected: true}
	}
	if !healthyOnly || healthy == len(all) {
		return Selection{Instances: all}
	}
	out := make([]*Instance, 0, healthy)
	for _, in := range all {
		if in.Healthy {
			out = append(out, in)
		}
	}
	return Selection{Instances: out}
}

func inClusters(c string, clusters []string) bool {
	if len(clusters) == 0 {
		return true
	}
	for _, x := range clusters {
		if x == c {
			return true
		}
	}
	return false
}
