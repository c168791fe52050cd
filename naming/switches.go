package naming

import (
	"strconv"
	"strings"
)

// Server modes (switch serverMode).
const (
	ModeAP    = "AP"
	ModeCP    = "CP"
	ModeMixed = "MIXED"
)

// Switches are the cluster-wide settings of Nacos's SwitchDomain that Sextant
// honours. Field names follow Nacos so GET /operator/switches looks familiar.
type Switches struct {
	Name                     string  `json:"name"`
	ServerMode               string  `json:"serverMode"`
	ClientBeatInterval       int64   `json:"clientBeatInterval"`
	DefaultCacheMillis       int64   `json:"defaultCacheMillis"`
	DefaultPushCacheMillis   int64   `json:"defaultPushCacheMillis"`
	PushEnabled              bool    `json:"pushEnabled"`
	LightBeatEnabled         bool    `json:"lightBeatEnabled"`
	HealthCheckEnabled       bool    `json:"healthCheckEnabled"`
	DefaultInstanceEphemeral bool    `json:"defaultInstanceEphemeral"`
	DistroEnabled            bool    `json:"distroEnabled"`
	CheckTimes               int     `json:"checkTimes"`
	DistroThreshold          float64 `json:"distroThreshold"`
	EnableStandalone         bool    `json:"enableStandalone"`
	DisableAddIP             bool    `json:"disableAddIP"`
	PushGoVersion            string  `json:"pushGoVersion"`
	PushJavaVersion          string  `json:"pushJavaVersion"`
	PushPythonVersion        string  `json:"pushPythonVersion"`
	PushCVersion             string  `json:"pushCVersion"`
	PushCSharpVersion        string  `json:"pushCSharpVersion"`
	OverriddenServerStatus   string  `json:"overriddenServerStatus"`
}

// DefaultSwitches returns the settings of a fresh cluster.
func DefaultSwitches() Switches {
	return Switches{
		Name:                     "00-00---000-NACOS_SWITCH_DOMAIN-000---00-00",
		ServerMode:               ModeMixed,
		ClientBeatInterval:       5000,
		DefaultCacheMillis:       3000,
		DefaultPushCacheMillis:   10000,
		PushEnabled:              true,
		LightBeatEnabled:         true,
		HealthCheckEnabled:       true,
		DefaultInstanceEphemeral: true,
		DistroEnabled:            true,
		CheckTimes:               3,
		DistroThreshold:          0.7,
		PushGoVersion:            "0.1.0",
		PushJavaVersion:          "0.1.0",
		PushPythonVersion:        "0.4.3",
		PushCVersion:             "1.0.12",
		PushCSharpVersion:        "0.9.0",
	}
}

// Set changes one entry by its Nacos name. An unknown entry or a value of the
// wrong form is an ErrInvalid and changes nothing.
func (s *Switches) Set(entry, value string) error {
	value = strings.TrimSpace(value)
	c := *s
	var err error
	switch entry {
	case "serverMode":
		v := strings.ToUpper(value)
		if v != ModeAP && v != ModeCP && v != ModeMixed {
			return Errorf(ErrInvalid, "serverMode must be one of AP, CP, MIXED, got %q", value)
		}
		c.ServerMode = v
	case "clientBeatInterval":
		c.ClientBeatInterval, err = positiveInt(entry, value)
	case "defaultCacheMillis":
		c.DefaultCacheMillis, err = positiveInt(entry, value)
	case "defaultPushCacheMillis":
		c.DefaultPushCacheMillis, err = positiveInt(entry, value)
	case "checkTimes":
		var n int64
		n, err = positiveInt(entry, value)
		c.CheckTimes = int(n)
	case "pushEnabled":
		c.PushEnabled, err = boolean(entry, value)
	case "lightBeatEnabled":
		c.LightBeatEnabled, err = boolean(entry, value)
	case "healthCheckEnabled":
		c.HealthCheckEnabled, err = boolean(entry, value)
	case "defaultInstanceEphemeral":
		c.DefaultInstanceEphemeral, err = boolean(entry, value)
	case "distroEnabled":
		c.DistroEnabled, err = boolean(entry, value)
	case "disableAddIP":
		c.DisableAddIP, err = boolean(entry, value)
	case "distroThreshold":
		var f float64
		f, err = strconv.ParseFloat(value, 64)
		if err != nil || f <= 0 || f > 1 {
			return Errorf(ErrInvalid, "illegal value for distroThreshold: %q", value)
		}
		c.DistroThreshold = f
	case "overriddenServerStatus":
		v := strings.ToUpper(value)
		if v != "" && v != "UP" && v != "DOWN" && v != "READ_ONLY" && v != "WRITE_ONLY" && v != "PAUSED" {
			return Errorf(ErrInvalid, "illegal server status: %q", value)
		}
		c.OverriddenServerStatus = v
	case "pushGoVersion":
		c.PushGoVersion = value
	case "pushJavaVersion":
		c.PushJavaVersion = value
	case "pushPythonVersion":
		c.PushPythonVersion = value
	case "pushCVersion":
		c.PushCVersion = value
	case "pushCSharpVersion":
		c.PushCSharpVersion = value
	default:
		return Errorf(ErrInvalid, "update entry is not supported: %s", entry)
	}
	if err != nil {
		return err
	}
	*s = c
	return nil
}

func positiveInt(entry, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, Errorf(ErrInvalid, "illegal value for %s: %q", entry, v)
	}
	return n, nil
}

func boolean(entry, v string) (bool, error) {
	b, ok := ParseBool(v)
	if !ok {
		return false, Errorf(ErrInvalid, "illegal value for %s: %q", entry, v)
	}
	return b, nil
}

// ParseBool reads a Nacos boolean: true/on/yes/y/t and false/off/no/n/f,
// in any case. ok is false for anything else.
func ParseBool(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "yes", "y", "t", "1":
		return true, true
	case "false", "off", "no", "n", "f", "0":
		return false, true
	}
	return false, false
}
