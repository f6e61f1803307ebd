// Command tmplgen writes the expected outputs of the template corpus (tests/template) with Go's
// own text/template and html/template, so the C engine is compared against the real thing.
//
// Usage (TZ is forced to UTC so .Local is reproducible):
//
//	cd tools/tmplgen && go run . -dir ../../tests/template [-check]
//	go run . render [--file F]... (--name NAME | --text TEXT) --data FILE \
//		[--type html] [--language L]
//
// The second form is the same command line as "notifyd template render", backed by Go: a
// reference oracle for any template, and a way to check the corpus runner itself.
//
// Each case is cases/NAME.tmpl plus optional NAME.data (a file name under data/, default
// one.json), NAME.type ("html"), NAME.lang (language for translate/message), NAME.inc (a
// template file parsed before the case, as "notifyd template render --file" does) and NAME.name
// (NAME.tmpl is then a file of definitions and this one is rendered, as --name does). The result
// is NAME.out (exact bytes) or, when parsing or execution fails, NAME.err (Go's error message).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"

	"notifyd/tmplgen/template"
)

// caseSpec is one case as read from disk.
type caseSpec struct {
	name     string
	text     string
	dataFile string
	typ      string
	language string
	files    []srcFile
}

// srcFile is a template file parsed into the set before the case text.
type srcFile struct {
	name, text string
}

func readOptional(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

func loadCase(dir, name string) (*caseSpec, error) {
	base := filepath.Join(dir, "cases", name)
	text, err := os.ReadFile(base + ".tmpl")
	if err != nil {
		return nil, err
	}
	c := &caseSpec{name: name, text: string(text), dataFile: "one.json", typ: "text"}
	for _, opt := range []struct {
		ext string
		dst *string
	}{{".data", &c.dataFile}, {".type", &c.typ}, {".lang", &c.language}} {
		v, ok, err := readOptional(base + opt.ext)
		if err != nil {
			return nil, err
		}
		if ok {
			*opt.dst = strings.TrimSpace(v)
		}
	}
	if c.typ != "text" && c.typ != "html" {
		return nil, fmt.Errorf("%s: unknown type %q", name, c.typ)
	}
	inc, ok, err := readOptional(base + ".inc")
	if err != nil {
		return nil, err
	}
	if ok {
		c.files = append(c.files, srcFile{name: name + ".inc", text: inc})
	}
	// With NAME.name the case file holds definitions and one of them is rendered by name,
	// as "render --file NAME.tmpl --name X" does.
	tname, ok, err := readOptional(base + ".name")
	if err != nil {
		return nil, err
	}
	if ok {
		c.files = append(c.files, srcFile{name: name + ".tmpl", text: c.text})
		c.text = fmt.Sprintf("{{ template %q . }}", strings.TrimSpace(tname))
	}
	return c, nil
}

func loadData(path string) (*template.Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := &template.Data{}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// render mirrors amtool's ExecuteTextString: files first (each named by its base name, as
// ParseFiles does), then the text parsed as the unnamed template "" of the same set, executed
// against *Data.
func render(c *caseSpec, d *template.Data) (string, error) {
	var buf bytes.Buffer
	funcs := template.FuncMap(c.language)
	if c.typ == "html" {
		root := htmltemplate.New("").Option("missingkey=zero").Funcs(htmltemplate.FuncMap(funcs))
		for _, f := range c.files {
			if _, err := root.New(f.name).Parse(f.text); err != nil {
				return "", err
			}
		}
		if _, err := root.Parse(c.text); err != nil {
			return "", err
		}
		err := root.Execute(&buf, d)
		return buf.String(), err
	}
	root := texttemplate.New("").Option("missingkey=zero").Funcs(funcs)
	for _, f := range c.files {
		if _, err := root.New(f.name).Parse(f.text); err != nil {
			return "", err
		}
	}
	if _, err := root.Parse(c.text); err != nil {
		return "", err
	}
	err := root.Execute(&buf, d)
	return buf.String(), err
}

// expected is the file a case should have and its content.
func expected(c *caseSpec, dir string) (ext, content string, err error) {
	d, err := loadData(filepath.Join(dir, "data", c.dataFile))
	if err != nil {
		return "", "", err
	}
	out, rerr := render(c, d)
	if rerr != nil {
		return ".err", rerr.Error() + "\n", nil
	}
	return ".out", out, nil
}

func run(dir string, check bool) error {
	matches, err := filepath.Glob(filepath.Join(dir, "cases", "*.tmpl"))
	if err != nil {
		return err
	}
	sort.Strings(matches)
	var nOut, nErr, nStale int
	for _, m := range matches {
		name := strings.TrimSuffix(filepath.Base(m), ".tmpl")
		c, err := loadCase(dir, name)
		if err != nil {
			return err
		}
		ext, content, err := expected(c, dir)
		if err != nil {
			return err
		}
		if ext == ".out" {
			nOut++
		} else {
			nErr++
		}
		base := filepath.Join(dir, "cases", name)
		other := map[string]string{".out": ".err", ".err": ".out"}[ext]
		old, ok, err := readOptional(base + ext)
		if err != nil {
			return err
		}
		_, otherExists, err := readOptional(base + other)
		if err != nil {
			return err
		}
		if ok && old == content && !otherExists {
			continue
		}
		nStale++
		if check {
			fmt.Printf("stale: %s%s\n", name, ext)
			continue
		}
		if err := os.WriteFile(base+ext, []byte(content), 0o644); err != nil {
			return err
		}
		if otherExists {
			if err := os.Remove(base + other); err != nil {
				return err
			}
		}
	}
	fmt.Printf("%d cases: %d outputs, %d errors, %d changed\n",
		len(matches), nOut, nErr, nStale)
	if check && nStale > 0 {
		return fmt.Errorf("%d stale expected files", nStale)
	}
	return nil
}

// fileList collects repeated --file flags.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

// renderCmd implements the same command line as "notifyd template render", so the corpus
// runner and amtool_default.py can be checked against Go itself.
func renderCmd(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	var files fileList
	fs.Var(&files, "file", "template file to parse first (repeatable)")
	name := fs.String("name", "", "render {{ template NAME . }}")
	text := fs.String("text", "", "template text to render")
	dataPath := fs.String("data", "", "webhook payload JSON")
	typ := fs.String("type", "text", "text or html")
	language := fs.String("language", "", "language for translate and message")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hasText := false
	fs.Visit(func(f *flag.Flag) { hasText = hasText || f.Name == "text" })
	if (*name == "") == !hasText || *dataPath == "" {
		return errors.New("usage: render [--file F]... (--name NAME | --text TEXT) --data FILE")
	}
	c := &caseSpec{text: *text, typ: *typ, language: *language}
	if *name != "" {
		c.text = fmt.Sprintf("{{ template %q . }}", *name)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		c.files = append(c.files, srcFile{name: filepath.Base(f), text: string(b)})
	}
	d, err := loadData(*dataPath)
	if err != nil {
		return err
	}
	out, err := render(c, d)
	if err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(out)
	return err
}

func main() {
	// Before any use of time.Local: Go reads TZ once, lazily.
	os.Setenv("TZ", "UTC")
	if len(os.Args) > 1 && os.Args[1] == "render" {
		if err := renderCmd(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	dir := flag.String("dir", "../../tests/template", "corpus directory (holds cases/ and data/)")
	check := flag.Bool("check", false, "report stale expected files instead of writing them")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "tmplgen:", err)
		os.Exit(1)
	}
}
