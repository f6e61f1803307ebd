package main

// Writes tests/unit/tmplfn/go_vectors.h: inputs and the outputs Go's
// standard library gives for them, for the C unit tests.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

type vec struct {
	fn      string
	a, b, c string
	want    string
	err     bool
}

func cstr(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"' || b == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(b)
		case b >= 0x20 && b < 0x7f && b != '?':
			sb.WriteByte(b)
		default:
			fmt.Fprintf(&sb, "\\%03o", b)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

var stringInputs = []string{
	"", "hello world", "Hello World", "ÀÉÎõü ß ÿ", "ĳ ǆ ǅ Ǆ ǈ", "İstanbul ıi",
	"Ωμέγα ΣΊΣΥΦΟΣ ς", "Привет, мир! ЁЖИК ґ", "ǳwo ǲ", "straße", "µ",
	"snake_case-and-kebab.case", "o'neil mc-donald x1y2 3abc", "tab\there\nnew",
	"\xff\xfeab\xc3", "\xe4\xb8\xad\xe6\x96\x87 中文 ａｂｃ", "ﬁ ﬂ", "ᾳ ᾼ",
	"  \t\n lead and trail \r\n ", "\u00a0\u2000nbsp\u3000\u0085", "\u200b zero width\u200b",
	"\v\f x \v\f", "  \xff  ", "a\u2028b\u2029c", "<a href=\"x\">'&'</a>",
	"x=1&y=2; z/?:@ +$,#~._-", "\x00\x01\x1f\x7f", "ɐ ɑ ɒ Ꞔ ⅰ ⓐ 𐐨 𞤢",
	"日本語のテキスト", "emoji 😀 ok", "Ǆemal dŽ", "\xed\xa0\x80 surrogate", "\xc0\x80 overlong",
	"\U0010ffff", "a\\b\"c", "json </script> & more",
}

var regexCases = [][2]string{
	{`a+b`, "xaaab"}, {`^ab$`, "ab\n"}, {`(?m)^b$`, "a\nb\nc"}, {`\d+`, "abc ١٢٣ 123"},
	{`\w+`, "ñandú"}, {`\s`, "\v"}, {`\S`, "\v"}, {`[\s]`, "\v"}, {`[^\S]`, "\v"}, {`[\S]`, "\v"},
	{`\bfoo\b`, "a foo."}, {`(?i)straSSe`, "STRASSE"}, {`(?i)σ`, "Σ"}, {`(?i)k`, "\u212a"},
	{`.`, "\n"}, {`(?s).`, "\n"}, {`a.c`, "a\xffc"}, {`\pL+`, "日本"}, {`\p{Greek}`, "λ"},
	{`\PL`, "a"}, {`\p{^Han}`, "a"}, {`[\p{Han}]+`, "中"}, {`\p{Foo}`, "x"}, {`\pZ`, "\u3000"},
	{`[[:alpha:]]+`, "abc"}, {`[[:^digit:]]`, "1"}, {`[[:foo:]]`, "x"}, {`[[:word:]]`, "_"},
	{`x{2,3}`, "xxx"}, {`x{1001}`, "x"}, {`x{2}{3}`, "x"}, {`a**`, "a"}, {`a*+`, "a"},
	{`a??`, "a"}, {`*a`, "a"}, {`(*ACCEPT)`, "a"}, {`a|*b`, "b"}, {`(`, "("}, {`)`, ")"},
	{`a)`, "a"}, {`[a`, "a"}, {`[]a]`, "]"}, {`[^]a]`, "b"}, {`[a-]`, "-"}, {`[z-a]`, "a"},
	{`[a-b-c]`, "-"}, {`\1`, "a"}, {`(a)\1`, "aa"}, {`\12`, "\n"}, {`\0`, "\x00"}, {`\8`, "8"},
	{`\x41`, "A"}, {`\x{1F600}`, "😀"}, {`\x{110000}`, "x"}, {`\xZ`, "x"}, {`\x4`, "x"},
	{`\C`, "x"}, {`\Z`, "x"}, {`\z`, "x"}, {`x\z`, "x\n"}, {`\A`, "x"}, {`\G`, "x"}, {`\K`, "x"},
	{`\R`, "\n"}, {`\h`, " "}, {`\e`, "\x1b"}, {`\v`, "\v"}, {`[\b]`, "\b"}, {`\Qa.b\E`, "a.b"},
	{`\Qa.b`, "axb"}, {`\Q*\E+`, "**"}, {`(?=a)`, "a"}, {`(?!a)`, "a"}, {`(?<=a)b`, "ab"},
	{`(?<name>a)`, "a"}, {`(?P<name>a)`, "a"}, {`(?P<1a>x)`, "x"}, {`(?P<a-b>x)`, "x"},
	{`(?P<a>x)(?P<a>y)`, "xy"}, {`(?P=name)`, "x"}, {`(?P<`, "x"}, {`(?P<name`, "x"}, {`(?>a)`, "a"},
	{`(?#c)`, "x"}, {`(?x) a`, "a"}, {`(?i-)`, "x"}, {`(?i`, "x"}, {`(?`, "x"}, {`(?i)`, "x"},
	{`(?U)a+`, "aaa"}, {`(?i:A)b`, "aB"}, {`(?-i)a`, "A"}, {`(?im-s:a.)`, "A\n"}, {`a{,3}`, "a{,3}"},
	{`a{`, "a{"}, {`a{1`, "a{1"}, {`{`, "{"}, {`a{2}?`, "aa"}, {`#\ `, "# "}, {`\`, "x"},
	{"a\xffb", "a"}, {`é+`, "éé"}, {`[é-ë]`, "ê"}, {`[\d-z]`, "-"}, {`$`, "x\n"}, {`^`, ""},
	{`(?m)$`, "a\n"}, {`x*`, ""}, {`[^a]`, "\n"}, {`\pN`, "½"}, {`\p`, "x"}, {`\p{`, "x"},
	{`(?i)ς`, "Σ"}, {`(?i)σ`, "ς"}, {`(?i)привет`, "ПРИВЕТ"}, {`(?i)ÿ`, "Ÿ"}, {`(?i)\x{FFFD}`, "\xff"},
	{`\x{FFFD}`, "a\xffb"}, {`[^a]`, "\xff"}, {`(?i)[a-z]+`, "ſK"}, {`[[:upper:]]`, "a"},
	{`(?i)[[:upper:]]`, "a"}, {`\d`, "٣"}, {`[[:space:]]`, "\v"}, {`a{0}`, "b"}, {`(?:a{2})*`, "aaa"},
	{`^*`, "a"}, {`$+`, "a"}, {`\b*a`, "a"}, {`(?i)*`, "a"}, {`a(?i)*`, "aa"}, {`\A?a`, "a"},
	{`(?:)*`, "a"}, {`()+`, "a"}, {`x{0,0}y`, "y"}, {`[^\x00-\x{10FFFF}]`, "a"}, {`\pL*`, "ab"},
	{`a{2,1}`, "a"}, {`a{1000}`, "b"}, {`a{1,1000}`, "b"}, {`a{99999999999}`, "a"}, {`(?i)(?-i)a`, "A"},
	{`[a-\d]`, "a"}, {`[\d-]`, "-"}, {`[[.a.]]`, "a"}, {`[[=a=]]`, "a"}, {`[[:alpha:]`, "a"},
	{`(?s-m:.)`, "\n"}, {`(?i:a`, "a"}, {`a|`, "b"}, {`|`, ""}, {`[a&&b]`, "&"}, {`[\[]`, "["},
	{`\x{}`, "a"}, {`\x{ 41}`, "A"}, {`\00`, "\x00"}, {`\0111`, "I1"}, {`\18`, "a"}, {`\177`, "\x7f"},
	{`(?i)\W`, "k"}, {`(?i)\W`, "\u212a"}, {`\W`, "\u212a"}, {`(?i)[^\W]`, "\u017f"}, {`(?i)[\W]`, "\u212a"},
	{`(?i)[[:^alpha:]]`, "\u212a"}, {`(?i)[[:^alpha:]]`, "k"}, {`[[:^alpha:]]`, "\u212a"}, {`(?i)[^k]`, "\u212a"},
	{`[^\W[:space:]]`, "\ufffd"}, {`[\W[:space:]]`, "中"}, {`[^\D[:alpha:]]`, "中"}, {`(?i)[[:upper:]]`, "\u017f"},
	{`[\Q]\E]`, "]"}, {`\B`, "ab"}, {`(a|b)*c`, "ababc"}, {`\.\+\*`, ".+*"}, {`\_`, "_"},
	{`\%`, "%"}, {`(a)(?:b)(c)`, "abc"}, {"a\x00b", "a\x00b"}, {`[\x00-\x{10FFFF}]`, "x"},
}

var replaceCases = [][3]string{
	{`a(x*)b`, "T", "-ab-axxb-"}, {`a(x*)b`, "$1", "-ab-axxb-"}, {`a(x*)b`, "$1W", "-ab-axxb-"},
	{`a(x*)b`, "${1}W", "-ab-axxb-"}, {`(?P<n>x+)`, "<$n>", "axxb"}, {`(?P<n>x+)`, "<${n}>", "axxb"},
	{`(?P<n>x+)`, "<$n_>", "axxb"}, {`x`, "$$", "axb"}, {`x`, "$", "axb"}, {`x`, "${", "axb"},
	{`x`, "${1", "axb"}, {`x`, "$!", "axb"}, {`(x)`, "$01", "axb"}, {`(x)`, "$2", "axb"},
	{`(x)`, "$10", "axb"}, {`(x)`, "$0$0", "axb"}, {`x*`, "-", "abc"}, {`a*`, "-", "baaac"},
	{`b*`, "X", "abbc"}, {``, "-", "日本"}, {`(?m)^`, ">", "a\nb\n"}, {`$`, "!", "a\nb"},
	{`\b`, "|", "hi there"}, {`(a)|(b)`, "[$1$2]", "abc"}, {`(?P<x>a)|(?P<x2>b)`, "[$x$x2]", "ab"},
	{`\s+`, " ", "a \t\n b\vc"}, {`(\w+)@(\w+)\.com`, "$2 at $1", "bob@example.com, al@x.com"},
	{`.*`, "[$0]", "ab"}, {`.`, "x", "a\xffb"}, {`é`, "e", "café é"}, {`(`, "x", "a"},
	{"\x01`", "x", "a"}, {"`", "x", "a"}, {`\1`, "x", "a"}, {`(?i)ǆ`, "x", "Ǆǅǆ"},
	{`(?P<名>x)`, "$名", "x"}, {`(x)`, "$1ü", "x"}, {`(x)`, "${1}ü", "x"},
	{`^(\w+)=(.*)$`, "$2=$1", "key=value"}, {`.`, "<$0>", "a\xffé\xc3"}, {`\xff`, "x", "a"},
	{`(a)|b`, "[$1]", "ab"}, {`a|(b)`, "[${1}]", "ab"}, {`(?U)a+`, "x", "aaa"}, {`a+?`, "x", "aaa"},
	{`(?i)ǅ`, "[$0]", "ǄǅǆDž"}, {`a(?U)*`, "<$0>", "aaa"}, {`a(?U)*?`, "<$0>", "aaa"},
	{`(?U)a(?-U)*`, "<$0>", "aaa"}, {`(?U:a+)a+`, "<$0>", "aaaa"}, {`(?U)(?:a+)a+?`, "<$0>", "aaaa"}, {`\pL`, ".", "日本go"}, {`(?m)^\s*$`, "-", "a\n\n b\n"}, {`(?s)(.)`, "<$1>", "a\nb"},
}

func goJSONEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func writeVectors(w io.Writer) {
	var vs []vec
	for _, s := range stringInputs {
		vs = append(vs, vec{fn: "upper", a: s, want: strings.ToUpper(s)})
		vs = append(vs, vec{fn: "lower", a: s, want: strings.ToLower(s)})
		vs = append(vs, vec{fn: "title", a: s, want: strings.Title(s)})
		vs = append(vs, vec{fn: "trim", a: s, want: strings.TrimSpace(s)})
		vs = append(vs, vec{fn: "escape", a: s, want: goJSONEscape(s)})
		vs = append(vs, vec{fn: "html", a: s, want: template.HTMLEscapeString(s)})
		vs = append(vs, vec{fn: "js", a: s, want: template.JSEscapeString(s)})
		vs = append(vs, vec{fn: "urlquery", a: s, want: url.QueryEscape(s)})
		vs = append(vs, vec{fn: "quote", a: s, want: strconv.Quote(s)})
	}
	for _, c := range regexCases {
		ok, err := regexp.MatchString(c[0], c[1])
		if err != nil {
			vs = append(vs, vec{fn: "match", a: c[0], b: c[1], want: err.Error(), err: true})
		} else {
			vs = append(vs, vec{fn: "match", a: c[0], b: c[1], want: strconv.FormatBool(ok)})
		}
	}
	for _, c := range replaceCases {
		v := vec{fn: "replace", a: c[0], b: c[1], c: c[2]}
		func() {
			defer func() {
				if r := recover(); r != nil {
					v.want = fmt.Sprint(r)
					v.err = true
				}
			}()
			v.want = regexp.MustCompile(c[0]).ReplaceAllString(c[2], c[1])
		}()
		vs = append(vs, v)
	}
	fmt.Fprintf(w, "/* go_vectors.h - generated by tools/tmplcheck (go run . vectors) with %s.\n", goVersion())
	fmt.Fprintln(w, " * Inputs and what Go's standard library gives for them. Do not edit. */")
	fmt.Fprintln(w, "static const struct go_vec go_vectors[] = {")
	for _, v := range vs {
		e := 0
		if v.err {
			e = 1
		}
		fmt.Fprintf(w, "    {\"%s\", %s, %d, %s, %d, %s, %d, %s, %d, %d},\n", v.fn,
			cstr(v.a), len(v.a), cstr(v.b), len(v.b), cstr(v.c), len(v.c), cstr(v.want), len(v.want), e)
	}
	fmt.Fprintln(w, "};")
}
