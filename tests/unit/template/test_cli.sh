#!/bin/sh
# test_cli.sh - `notifyd template render` through the standalone CLI: exact
# output bytes, --file/--name, exit codes and stderr. Prints TAP.
# usage: test_cli.sh path/to/nd_template_cli
cli="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
fail=0
check() { # name, condition (0 = ok)
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=1; fi
}
printf '%s' '{"receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"A"}}],"groupLabels":{"alertname":"A"}}' > "$dir/d.json"
printf '%s' '{{define "x"}}[{{.Receiver}}]  {{end}}{{define "y"}}{{template "x" .}}{{end}}' > "$dir/f.tmpl"

"$cli" template render --text '{{range .Alerts}}{{.Labels.alertname}}{{end}}
' --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "text renders, exit 0" $?
printf 'A\n' | cmp -s - "$dir/out"
check "output is exact, trailing newline kept" $?

"$cli" template render --file "$dir/f.tmpl" --name y --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "--file and --name, exit 0" $?
printf '[r]  ' | cmp -s - "$dir/out"
check "no trimming of trailing spaces" $?

"$cli" template render --file "$dir/f.tmpl" --name '{{ template "x" . }}' --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
printf '[r]  ' | cmp -s - "$dir/out"
check "--name accepts a full invocation" $?

"$cli" template render --text '{{ .Nope }}' --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "execution error exits 1" $([ $? -eq 1 ]; echo $?)
grep -q 'template: :1:3: executing "" at <.Nope>: can'"'"'t evaluate field Nope in type \*template.Data' "$dir/err"
check "execution error on stderr in Go's form" $?
[ ! -s "$dir/out" ]
check "nothing on stdout after an error" $?

"$cli" template render --text '{{ if }}' --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "parse error exits 1" $([ $? -eq 1 ]; echo $?)
grep -q 'template: :1: missing value for if' "$dir/err"
check "parse error message" $?

printf '{{ end }}' > "$dir/bad.tmpl"
"$cli" template render --file "$dir/bad.tmpl" --text 'x' --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "bad --file exits 1" $([ $? -eq 1 ]; echo $?)
grep -q 'template: bad.tmpl:1: unexpected {{end}}' "$dir/err"
check "names the file" $?

"$cli" template render --text x --data "$dir/missing.json" > "$dir/out" 2> "$dir/err"
check "missing data file exits 1" $([ $? -eq 1 ]; echo $?)

"$cli" template render --text x > "$dir/out" 2> "$dir/err"
check "missing --data is a usage error (2)" $([ $? -eq 2 ]; echo $?)
"$cli" template render --text x --name y --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
check "--text with --name is a usage error (2)" $([ $? -eq 2 ]; echo $?)
"$cli" template render --bogus > "$dir/out" 2> "$dir/err"
check "unknown option is a usage error (2)" $([ $? -eq 2 ]; echo $?)
grep -q usage "$dir/err"
check "usage printed" $?
"$cli" template > "$dir/out" 2> "$dir/err"
check "no subcommand is a usage error (2)" $([ $? -eq 2 ]; echo $?)

"$cli" template render --text '<p title="{{ .Receiver }}">{{ "<b>" }}</p>' --type html --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
printf '<p title="r">&lt;b&gt;</p>' | cmp -s - "$dir/out"
check "--type html escapes by context" $?

"$cli" template render --text '{{ "firing" | translate }}' --language zh-cn --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
printf '\350\247\246\345\217\221\344\270\255' | cmp -s - "$dir/out"
check "--language selects the pack" $?

"$cli" template render --name nm.default.text --data "$dir/d.json" > "$dir/out" 2> "$dir/err"
printf '[FIRING] \n  alertname: A\n\n' | cmp -s - "$dir/out"
check "the built-in defaults are available" $?

echo "1..$n"
exit $fail
