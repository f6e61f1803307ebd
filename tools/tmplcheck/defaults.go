package main

// Renders notifyd's default templates (src/template/defaults/*.tmpl) with
// Go's own text/template and html/template over sample groups, with a
// minimal copy of Notification Manager's data model and functions, and
// writes the outputs (raw, before any trimming) and the input payloads:
//
//	OUTDIR/<case>.json                    the group, in the webhook payload shape
//	OUTDIR/<case>.<template>.<lang>.out   what {{ template "<template>" . }} printed

import (
	"encoding/json"
	"fmt"
	htmltmpl "html/template"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	texttmpl "text/template"
	"time"
)

type KV map[string]string

type Pair struct{ Name, Value string }
type Pairs []Pair

func (ps Pairs) Names() []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func (ps Pairs) Values() []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Value)
	}
	return out
}

func (ps Pairs) Filter(keys ...string) Pairs {
	var out Pairs
outer:
	for _, p := range ps {
		for _, k := range keys {
			if p.Name == k {
				continue outer
			}
		}
		out = append(out, p)
	}
	return out
}

func (ps Pairs) DefaultFilter() Pairs {
	return ps.Filter("rule_id", "runbook_url", "message", "summary", "summary_cn")
}

func (kv KV) SortedPairs() Pairs {
	var names []string
	for k := range kv {
		if k != "alertname" && k != "rule_id" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out Pairs
	if v, ok := kv["alertname"]; ok {
		out = append(out, Pair{"alertname", v})
	}
	for _, k := range names {
		out = append(out, Pair{k, kv[k]})
	}
	return out
}

func (kv KV) Remove(keys []string) KV {
	out := KV{}
	for k, v := range kv {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func (kv KV) Names() []string  { return kv.SortedPairs().Names() }
func (kv KV) Values() []string { return kv.SortedPairs().Values() }

type Alert struct {
	ID               string
	Status           string
	Labels           KV
	Annotations      KV
	StartsAt         time.Time
	EndsAt           time.Time
	NotificationTime time.Time
	Fingerprint      string
	GeneratorURL     string
}

func (a *Alert) Message() string {
	for _, k := range []string{"message", "summary", "summaryCn"} {
		if v := a.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

func (a *Alert) MessageCN() string {
	for _, k := range []string{"summaryCn", "message", "summary"} {
		if v := a.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

type Alerts []*Alert

func (as Alerts) filter(st string) Alerts {
	var out Alerts
	for _, a := range as {
		if a.Status == st {
			out = append(out, a)
		}
	}
	return out
}

func (as Alerts) Firing() Alerts   { return as.filter("firing") }
func (as Alerts) Resolved() Alerts { return as.filter("resolved") }

type Data struct {
	Alerts            Alerts
	GroupLabels       KV
	CommonLabels      KV
	CommonAnnotations KV
}

func (d *Data) Status() string {
	if len(d.Alerts.Firing()) == len(d.Alerts) {
		return "firing"
	}
	if len(d.Alerts.Resolved()) == len(d.Alerts) {
		return "resolved"
	}
	return ""
}

// The zh-cn words of src/template/fn/lang.c, for the reference outputs.
var zhCN = map[string]string{
	"alert": "告警", "alerts": "告警", "firing": "触发中", "resolved": "已恢复",
	"alertname": "告警名称", "alerttype": "告警类型", "cluster": "集群", "namespace": "项目",
	"severity": "告警级别", "container": "容器", "pod": "容器组", "service": "服务",
	"deployment": "部署", "job": "任务", "daemonset": "守护进程集", "statefulset": "有状态副本集",
	"instance": "实例", "resource": "资源", "user": "用户", "verb": "操作", "group": "组",
	"requestreceivedtimestamp": "请求接收时间", "role": "角色", "host_ip": "主机地址",
	"node": "节点", "rule_id": "规则标识", "owner_kind": "所有者类型", "workload": "工作负载",
	"rule_group": "规则组", "rule_level": "规则级别", "name": "名称", "receiver": "接收者",
	"receiver_type": "接收者类型", "workload_type": "工作负载类型", "rule_type": "规则类型",
	"reason": "原因",
}

func funcs(lang string) map[string]interface{} {
	dict := map[string]map[string]string{
		"English": {"firing": "FIRING", "resolved": "RESOLVED"},
		"zh-cn":   zhCN,
	}
	return map[string]interface{}{
		"toUpper": strings.ToUpper,
		"toLower": strings.ToLower,
		"title":   strings.Title,
		"join":    func(sep string, s []string) string { return strings.Join(s, sep) },
		"match":   regexp.MatchString,
		"safeHtml": func(text string) htmltmpl.HTML {
			return htmltmpl.HTML(text)
		},
		"reReplaceAll": func(pattern, repl, text string) string {
			return regexp.MustCompile(pattern).ReplaceAllString(text, repl)
		},
		"stringSlice": func(s ...string) []string { return s },
		"escape": func(text string) string {
			b, _ := json.Marshal(text)
			return string(b[1 : len(b)-1])
		},
		"translate": func(key string) string {
			if v, ok := dict[lang][strings.ToLower(key)]; ok {
				return v
			}
			return key
		},
		"message": func(a *Alert) string {
			if lang == "zh-cn" {
				return a.MessageCN()
			}
			return a.Message()
		},
	}
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func alert(status string, labels, ann KV) *Alert {
	a := &Alert{Status: status, Labels: labels, Annotations: ann, StartsAt: t0}
	if status == "resolved" {
		a.EndsAt = t0.Add(5 * time.Minute)
	}
	return a
}

func withURL(a *Alert, url string) *Alert {
	a.GeneratorURL = url
	return a
}

func common(as Alerts, get func(*Alert) KV) KV {
	out := KV{}
	if len(as) == 0 {
		return out
	}
	for k, v := range get(as[0]) {
		same := true
		for _, a := range as[1:] {
			if w, ok := get(a)[k]; !ok || w != v {
				same = false
			}
		}
		if same {
			out[k] = v
		}
	}
	return out
}

func group(as Alerts, groupBy ...string) *Data {
	d := &Data{Alerts: as, GroupLabels: KV{}}
	d.CommonLabels = common(as, func(a *Alert) KV { return a.Labels })
	d.CommonAnnotations = common(as, func(a *Alert) KV { return a.Annotations })
	for _, k := range groupBy {
		if v := d.CommonLabels[k]; v != "" {
			d.GroupLabels[k] = v
		}
	}
	return d
}

func cases() map[string]*Data {
	return map[string]*Data{
		// The example of the reference (section 4.8).
		"one": group(Alerts{alert("firing",
			KV{"alertname": "A", "cluster": "default", "namespace": "ns1", "receiver": "r1",
				"severity": "warning"},
			KV{"message": "msg", "runbook_url": "u", "foo": "bar"})}, "alertname"),
		"mixed": group(Alerts{
			withURL(alert("firing", KV{"alertname": "KubePodCrashLooping", "cluster": "prod",
				"namespace": "kube-system", "pod": "coredns-1", "severity": "critical",
				"alerttype": "metric", "rule_id": "r-1", "node": "n1"},
				KV{"summary": "Pod <coredns-1> is \"crash looping\" & restarting",
					"summaryCn": "容器组 coredns-1 反复崩溃", "runbook_url": "http://x/?a=1&b=2",
					"description": "line one\nline two\ttab 'quoted'"}),
				"http://prometheus:9090/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1"),
			alert("resolved", KV{"alertname": "KubePodCrashLooping", "cluster": "prod",
				"namespace": "kube-system", "pod": "coredns-2", "severity": "critical",
				"alerttype": "metric"},
				KV{"message": "已恢复：coredns-2 正常运行", "summary_cn": "ignored"}),
			alert("firing", KV{"alertname": "KubePodCrashLooping", "cluster": "prod",
				"namespace": "kube-system", "pod": "coredns-3", "severity": "critical",
				"alerttype": "metric"},
				KV{}),
		}, "alertname", "namespace", "cluster"),
		"resolved2": group(Alerts{
			withURL(alert("resolved", KV{"alertname": "Disk", "instance": "h1:9100",
				"severity": "warning"}, KV{"summary": "disk full < 5%"}),
				"http://prometheus:9090/graph?g0.expr=disk"),
			alert("resolved", KV{"alertname": "Disk", "instance": "h2:9100", "severity": "warning"},
				KV{"summary": "disk full < 5%"}),
		}, "alertname"),
		"none": group(Alerts{}, "alertname"),
		// Values that must be escaped, and URLs html/template filters: a
		// javascript: runbook becomes #ZgotmplZ, a generatorURL is normalised.
		"unsafe": group(Alerts{
			withURL(alert("firing", KV{"alertname": "Unsafe", "evil": "<script>alert(1)</script>",
				"quote": "a\"b'c&d"},
				KV{"summary": "<b>not bold</b>", "runbook_url": "javascript:alert(1)",
					"note": "<img src=x onerror=alert(1)>"}),
				"http://prom:9090/graph?g0.expr=up%3D%3D0&x=<y> z"),
			alert("", KV{"alertname": "NoStatus"}, KV{"description": "only a description"}),
		}, "alertname"),
	}
}

var textNames = []string{"nm.default.message", "nm.default.message.cn", "nm.default.subject",
	"nm.subject", "nm.default.text", "nm.default.markdown", "nm.feishu.message",
	"nm.feishu.post", "nm.feishu.text"}
var htmlNames = []string{"nm.default.html", "nm.html"}
var perAlert = map[string]bool{"nm.default.message": true, "nm.default.message.cn": true,
	"nm.feishu.message": true}

type payloadAlert struct {
	Status       string `json:"status"`
	Labels       KV     `json:"labels"`
	Annotations  KV     `json:"annotations"`
	StartsAt     string `json:"startsAt"`
	EndsAt       string `json:"endsAt"`
	GeneratorURL string `json:"generatorURL"`
}

type payload struct {
	Receiver          string         `json:"receiver"`
	Status            string         `json:"status"`
	Alerts            []payloadAlert `json:"alerts"`
	GroupLabels       KV             `json:"groupLabels"`
	CommonLabels      KV             `json:"commonLabels"`
	CommonAnnotations KV             `json:"commonAnnotations"`
	ExternalURL       string         `json:"externalURL"`
}

func writePayload(path string, d *Data) error {
	p := payload{Receiver: "r1", Status: d.Status(), GroupLabels: d.GroupLabels,
		CommonLabels: d.CommonLabels, CommonAnnotations: d.CommonAnnotations,
		ExternalURL: "http://alertmanager:9093", Alerts: []payloadAlert{}}
	for _, a := range d.Alerts {
		pa := payloadAlert{Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt.Format(time.RFC3339), EndsAt: "0001-01-01T00:00:00Z",
			GeneratorURL: a.GeneratorURL}
		if !a.EndsAt.IsZero() {
			pa.EndsAt = a.EndsAt.Format(time.RFC3339)
		}
		p.Alerts = append(p.Alerts, pa)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func renderDefaults(src, out string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.tmpl"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, lang := range []string{"English", "zh-cn"} {
		tt := texttmpl.New("").Option("missingkey=zero").Funcs(funcs(lang))
		ht := htmltmpl.New("").Option("missingkey=zero").Funcs(funcs(lang))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if tt, err = tt.Parse(string(b)); err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
			if ht, err = ht.Parse(string(b)); err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
		}
		for cname, d := range cases() {
			if lang == "English" {
				if err := writePayload(filepath.Join(out, cname+".json"), d); err != nil {
					return err
				}
			}
			for _, name := range append(append([]string{}, textNames...), htmlNames...) {
				var sb strings.Builder
				var err error
				isHTML := false
				for _, h := range htmlNames {
					isHTML = isHTML || h == name
				}
				var dot interface{} = d
				if perAlert[name] {
					if len(d.Alerts) == 0 {
						continue
					}
					dot = d.Alerts[0]
				}
				if isHTML {
					err = ht.ExecuteTemplate(&sb, name, dot)
				} else {
					err = tt.ExecuteTemplate(&sb, name, dot)
				}
				if err != nil {
					return fmt.Errorf("%s %s %s: %v", cname, name, lang, err)
				}
				if name == "nm.feishu.post" && !json.Valid([]byte(sb.String())) {
					return fmt.Errorf("%s %s: not JSON: %s", cname, name, sb.String())
				}
				p := filepath.Join(out, fmt.Sprintf("%s.%s.%s.out", cname, name, lang))
				if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
