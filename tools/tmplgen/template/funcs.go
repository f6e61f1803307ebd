package template

import (
	"encoding/json"
	htmltemplate "html/template"
	"regexp"
	"strings"
)

// languagePacks holds only the words whose translation the reference fixes. The C engine's
// zh-cn pack is our own wording for the rest, so corpus cases must not translate other words
// in zh-cn (they fall back to the key here).
var languagePacks = map[string]map[string]string{
	"English": {"firing": "FIRING", "resolved": "RESOLVED"},
	"zh-cn":   {"firing": "触发中", "namespace": "项目"},
}

// DefaultLanguage is what Notification Manager uses when none is configured.
const DefaultLanguage = "English"

// FuncMap returns the union of Notification Manager's and Alertmanager 0.25's functions, bound
// to a language for translate and message.
func FuncMap(language string) map[string]interface{} {
	if language == "" {
		language = DefaultLanguage
	}
	dict := languagePacks[language]
	return map[string]interface{}{
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"title":     strings.Title, //nolint:staticcheck // both originals use it
		"trimSpace": strings.TrimSpace,
		// The separator comes first so that "{{ .Values | join "," }}" reads naturally.
		"join": func(sep string, s []string) string {
			return strings.Join(s, sep)
		},
		"match": regexp.MatchString,
		"reReplaceAll": func(pattern, repl, text string) string {
			return regexp.MustCompile(pattern).ReplaceAllString(text, repl)
		},
		"safeHtml": func(text string) htmltemplate.HTML {
			return htmltemplate.HTML(text)
		},
		"stringSlice": func(s ...string) []string {
			return s
		},
		"escape":    escape,
		"translate": func(s string) string { return translate(dict, s) },
		"message": func(a *Alert) string {
			if language == "zh-cn" {
				return a.MessageCN()
			}
			return a.Message()
		},
	}
}

// escape is the body of a JSON string literal: quotes, backslashes and control characters
// escaped, and <, >, & as \u003c, \u003e, \u0026 (HTML-safe, as jsoniter's default does).
func escape(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s
	}
	return string(b[1 : len(b)-1])
}

func translate(dict map[string]string, s string) string {
	if v, ok := dict[strings.ToLower(s)]; ok {
		return v
	}
	return s
}
