// Package template mirrors the data model that Notification Manager exposes to its templates,
// extended with Alertmanager's fields. The package is named "template" on purpose: Go's error
// messages print type names ("can't evaluate field X in type *template.Data"), and the C engine
// promises the same text as both originals, whose packages carry that name too.
package template

import (
	"sort"
	"time"
)

// KV is a label or annotation set.
type KV map[string]string

// Pair is one entry of a KV, as returned by SortedPairs.
type Pair struct {
	Name, Value string
}

// Pairs is an ordered list of label or annotation entries.
type Pairs []Pair

// Alert is one alert of a group, as decoded from the webhook payload. ID and NotificationTime
// are Notification Manager additions; payloads from Alertmanager leave them zero.
type Alert struct {
	ID               string    `json:"id"`
	Status           string    `json:"status"`
	Labels           KV        `json:"labels"`
	Annotations      KV        `json:"annotations"`
	StartsAt         time.Time `json:"startsAt"`
	EndsAt           time.Time `json:"endsAt"`
	NotificationTime time.Time `json:"notificationTime"`
	GeneratorURL     string    `json:"generatorURL"`
	Fingerprint      string    `json:"fingerprint"`
}

// Alerts holds pointers, as Notification Manager's does, so method sets and error messages name
// *template.Alert.
type Alerts []*Alert

// Data is the root object ("."). Status is a method computed from the alerts (Notification
// Manager's rule), so the payload's own "status" field is deliberately not decoded.
type Data struct {
	Receiver          string `json:"receiver"`
	Alerts            Alerts `json:"alerts"`
	GroupLabels       KV     `json:"groupLabels"`
	CommonLabels      KV     `json:"commonLabels"`
	CommonAnnotations KV     `json:"commonAnnotations"`
	ExternalURL       string `json:"externalURL"`
}

const (
	statusFiring   = "firing"
	statusResolved = "resolved"
)

// Status is "firing" when every alert is firing, "resolved" when every alert is resolved and ""
// otherwise. An empty group therefore counts as firing: the firing test comes first.
func (d *Data) Status() string {
	firing, resolved := 0, 0
	for _, a := range d.Alerts {
		switch a.Status {
		case statusFiring:
			firing++
		case statusResolved:
			resolved++
		}
	}
	if firing == len(d.Alerts) {
		return statusFiring
	}
	if resolved == len(d.Alerts) {
		return statusResolved
	}
	return ""
}

func (as Alerts) withStatus(status string) Alerts {
	res := Alerts{}
	for _, a := range as {
		if a.Status == status {
			res = append(res, a)
		}
	}
	return res
}

// Firing returns the alerts whose status is exactly "firing", in order.
func (as Alerts) Firing() Alerts { return as.withStatus(statusFiring) }

// Resolved returns the alerts whose status is exactly "resolved", in order.
func (as Alerts) Resolved() Alerts { return as.withStatus(statusResolved) }

// Message prefers annotations "message", then "summary", then "summaryCn"; the first non-empty
// one wins.
func (a *Alert) Message() string {
	return firstNonEmpty(a.Annotations, "message", "summary", "summaryCn")
}

// MessageCN is Message with the Chinese summary first.
func (a *Alert) MessageCN() string {
	return firstNonEmpty(a.Annotations, "summaryCn", "message", "summary")
}

func firstNonEmpty(kv KV, keys ...string) string {
	for _, k := range keys {
		if v := kv[k]; v != "" {
			return v
		}
	}
	return ""
}

// SortedPairs puts "alertname" first and the other keys in byte order after it; "rule_id" is an
// internal label of KubeSphere and is left out.
func (kv KV) SortedPairs() Pairs {
	keys := make([]string, 0, len(kv))
	hasName := false
	for k := range kv {
		switch k {
		case "alertname":
			hasName = true
		case "rule_id":
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if hasName {
		keys = append([]string{"alertname"}, keys...)
	}
	ps := make(Pairs, 0, len(keys))
	for _, k := range keys {
		ps = append(ps, Pair{Name: k, Value: kv[k]})
	}
	return ps
}

// Remove returns a copy of kv without the given keys.
func (kv KV) Remove(keys []string) KV {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	res := KV{}
	for k, v := range kv {
		if !drop[k] {
			res[k] = v
		}
	}
	return res
}

// Names returns the keys in SortedPairs order.
func (kv KV) Names() []string { return kv.SortedPairs().Names() }

// Values returns the values in SortedPairs order.
func (kv KV) Values() []string { return kv.SortedPairs().Values() }

// Names returns the names of the pairs, in order.
func (ps Pairs) Names() []string {
	res := make([]string, 0, len(ps))
	for _, p := range ps {
		res = append(res, p.Name)
	}
	return res
}

// Values returns the values of the pairs, in order.
func (ps Pairs) Values() []string {
	res := make([]string, 0, len(ps))
	for _, p := range ps {
		res = append(res, p.Value)
	}
	return res
}

// Filter returns the pairs whose name is not one of keys.
func (ps Pairs) Filter(keys ...string) Pairs {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	res := Pairs{}
	for _, p := range ps {
		if !drop[p.Name] {
			res = append(res, p)
		}
	}
	return res
}

// DefaultFilter drops the annotations that the default templates print elsewhere or never.
func (ps Pairs) DefaultFilter() Pairs {
	return ps.Filter("rule_id", "runbook_url", "message", "summary", "summary_cn")
}
