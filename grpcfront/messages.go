package grpcfront

import "sextant/nacoswire"

// The JSON bodies of the protocol. Requests are read leniently (unknown
// fields ignored, absent ones defaulted, as the Java server's Jackson
// does); answers carry no null fields, as Java clients send and expect.

// Request and response type names (the Java classes' simple names).
const (
	typeServerCheck        = "ServerCheckRequest"
	typeServerCheckResp    = "ServerCheckResponse"
	typeHealthCheck        = "HealthCheckRequest"
	typeHealthCheckResp    = "HealthCheckResponse"
	typeConnectionSetup    = "ConnectionSetupRequest"
	typeClientDetection    = "ClientDetectionRequest"
	typeClientDetectResp   = "ClientDetectionResponse"
	typeConnectReset       = "ConnectResetRequest"
	typeConnectResetResp   = "ConnectResetResponse"
	typeInstance           = "InstanceRequest"
	typeInstanceResp       = "InstanceResponse"
	typeBatchInstance      = "BatchInstanceRequest"
	typeBatchInstanceResp  = "BatchInstanceResponse"
	typePersistentInstance = "PersistentInstanceRequest"
	typeSubscribe          = "SubscribeServiceRequest"
	typeSubscribeResp      = "SubscribeServiceResponse"
	typeServiceQuery       = "ServiceQueryRequest"
	typeServiceQueryResp   = "QueryServiceResponse"
	typeServiceList        = "ServiceListRequest"
	typeServiceListResp    = "ServiceListResponse"
	typeNotifySubscriber   = "NotifySubscriberRequest"
	typeNotifySubResp      = "NotifySubscriberResponse"
	typeError              = "ErrorResponse"
	typeSetupAck           = "SetupAckRequest"
)

// Error codes of ErrorResponse and refusals (Nacos's).
const (
	codeOK           = 200
	codeFail         = 500
	codeStarting     = 300 // server not ready: the client waits and asks again
	codeUnregistered = 301 // request on a connection that was not set up
	codeNoHandler    = 302 // unknown request type
	codeBadRequest   = 400
	codeForbidden    = 403
	codeNotFound     = 404
	codeTooLarge     = 413
	codeBusy         = 503
	codeParse        = 502 // body that does not parse
)

// response is the part every answer shares.
type response struct {
	ResultCode int    `json:"resultCode"`
	ErrorCode  int    `json:"errorCode"`
	Message    string `json:"message,omitempty"`
	RequestID  string `json:"requestId,omitempty"`
	Success    bool   `json:"success"`
}

func okResponse() response { return response{ResultCode: codeOK, Success: true} }

func failResponse(code int, msg string) response {
	return response{ResultCode: codeFail, ErrorCode: code, Message: msg}
}

// request is the part of every request body the front reads first.
type request struct {
	RequestID   string `json:"requestId"`
	Module      string `json:"module"`
	Namespace   string `json:"namespace"`
	ServiceName string `json:"serviceName"`
	GroupName   string `json:"groupName"`
}

type serverCheckResponse struct {
	response
	ConnectionID              string `json:"connectionId"`
	SupportAbilityNegotiation bool   `json:"supportAbilityNegotiation"`
}

type connectionSetupRequest struct {
	ClientVersion string            `json:"clientVersion"`
	Tenant        string            `json:"tenant"`
	Labels        map[string]string `json:"labels"`
}

type instanceRequest struct {
	request
	Type     string                `json:"type"`
	Instance *nacoswire.InstanceIn `json:"instance"`
}

type batchInstanceRequest struct {
	request
	Type      string                  `json:"type"`
	Instances []*nacoswire.InstanceIn `json:"instances"`
}

type instanceResponse struct {
	response
	Type string `json:"type,omitempty"`
}

type subscribeRequest struct {
	request
	Subscribe bool   `json:"subscribe"`
	Clusters  string `json:"clusters"`
}

type serviceQueryRequest struct {
	request
	Cluster     string `json:"cluster"`
	HealthyOnly bool   `json:"healthyOnly"`
	UDPPort     int    `json:"udpPort"`
}

type serviceListRequest struct {
	request
	PageNo   int `json:"pageNo"`
	PageSize int `json:"pageSize"`
}

type serviceInfoResponse struct {
	response
	ServiceInfo *serviceInfo `json:"serviceInfo,omitempty"`
}

type serviceListResponse struct {
	response
	Count        int      `json:"count"`
	ServiceNames []string `json:"serviceNames"`
}

// outHost is an instance in a serviceInfo.
type outHost struct {
	nacoswire.Instance
	nacoswire.Timings
}

// serviceInfo is a service as gRPC answers and pushes carry it: name is
// the bare name, with groupName beside it.
type serviceInfo struct {
	Name                     string    `json:"name"`
	GroupName                string    `json:"groupName"`
	Clusters                 string    `json:"clusters"`
	CacheMillis              int64     `json:"cacheMillis"`
	Hosts                    []outHost `json:"hosts"`
	LastRefTime              int64     `json:"lastRefTime"`
	Checksum                 string    `json:"checksum"`
	AllIPs                   bool      `json:"allIPs"`
	ReachProtectionThreshold bool      `json:"reachProtectionThreshold"`
	Valid                    bool      `json:"valid"`
}

// notifyRequest is a push.
type notifyRequest struct {
	RequestID   string       `json:"requestId"`
	Module      string       `json:"module"`
	Namespace   string       `json:"namespace"`
	ServiceName string       `json:"serviceName"`
	GroupName   string       `json:"groupName"`
	ServiceInfo *serviceInfo `json:"serviceInfo"`
}

// internalRequest is a server-to-client request of the internal module
// (ClientDetectionRequest, ConnectResetRequest).
type internalRequest struct {
	RequestID  string `json:"requestId"`
	Module     string `json:"module"`
	ServerIP   string `json:"serverIp,omitempty"`
	ServerPort string `json:"serverPort,omitempty"`
}
