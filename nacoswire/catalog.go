package nacoswire

// ServiceView is one row of GET /nacos/v1/ns/catalog/services.
type ServiceView struct {
	Name                 string `json:"name"`
	GroupName            string `json:"groupName"`
	ClusterCount         int    `json:"clusterCount"`
	IPCount              int    `json:"ipCount"`
	HealthyInstanceCount int    `json:"healthyInstanceCount"`
	TriggerFlag          string `json:"triggerFlag"`
}
