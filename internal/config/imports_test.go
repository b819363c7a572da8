package config

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/roundtable-lms/roundtable"

// leafUtilities are the only packages of Roundtable that config may
// import, directly or not: infrastructure that knows nothing of the
// product.
var leafUtilities = []string{"internal/egress"}

// moduleImports lists, sorted, the packages of Roundtable that the
// package in dir (relative to the module root) imports directly or
// through others, reading the import lines of their non-test files.
func moduleImports(t *testing.T, dir string) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rel, ok := strings.CutPrefix(path, module)
				if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
					continue
				}
				rel = strings.TrimPrefix(rel, "/")
				if rel == "" {
					rel = "."
				}
				if !seen[rel] {
					seen[rel] = true
					walk(rel)
				}
			}
		}
	}
	walk(dir)
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// config reads settings into plain values; the product packages (or the
// app, which wires them) turn those into their own types. A config that
// imported a product package would tie every setting to the product's
// inside, and the product to config.
func TestConfigImportsNothingOfTheProduct(t *testing.T) {
	for _, p := range moduleImports(t, "internal/config") {
		if !slices.Contains(leafUtilities, p) {
			t.Errorf("config imports %s (directly or not); only %v may be", p, leafUtilities)
		}
	}
}

// The check sees what a wiring package imports, so it would see it in
// config too.
func TestModuleImportsSeesTheProduct(t *testing.T) {
	got := moduleImports(t, "internal/app")
	for _, want := range []string{"discussion", "internal/config", "internal/grade", "internal/store", "lti"} {
		if !slices.Contains(got, want) {
			t.Errorf("imports of internal/app %v lack %s", got, want)
		}
	}
}
