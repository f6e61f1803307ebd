// tmplcheck produces the reference data of notifyd's template functions with
// Go's standard library. It is run by hand, not in CI; its outputs are
// committed:
//
//	go run . tables   > ../../src/util/unicode_tables.h
//	go run . vectors  > ../../tests/unit/tmplfn/go_vectors.h
//	go run . fuzz     > ../../tests/unit/regex/go_fuzz.h
//	go run . floats   > ../../tests/unit/template/go_floats.h
//	go run . defaults ../../src/template/defaults ../../tests/unit/tmplfn/defaults
package main

import (
	"fmt"
	"os"
	"runtime"
)

func goVersion() string { return runtime.Version() }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tmplcheck tables|vectors|defaults ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "tables":
		writeTables(os.Stdout)
	case "fuzz":
		writeFuzz(os.Stdout)
	case "floats":
		writeFloats(os.Stdout)
	case "vectors":
		writeVectors(os.Stdout)
	case "defaults":
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: tmplcheck defaults SRCDIR OUTDIR")
			os.Exit(2)
		}
		if err := renderDefaults(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}
