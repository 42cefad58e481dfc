package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A fresh clone with nothing beside it must pass its tests: no test names a
// path that leaves the repository (such as ../shared, which exists only
// beside a CI checkout). Every string literal in a _test.go file that is a
// relative path is resolved against its package's folder and must stay
// inside the repository root.
// fileFuncs are the calls whose string arguments are paths.
var fileFuncs = map[string]bool{"ReadFile": true, "Open": true, "OpenFile": true, "Stat": true, "ReadDir": true,
	"Command": true, "CommandContext": true, "Join": true, "Abs": true, "Chdir": true, "DirFS": true, "Glob": true}

// pathName matches names of constants and variables that hold paths.
var pathName = regexp.MustCompile(`(?i)(path|dir|file|schema)$`)

func TestTestsReadNothingOutsideTheRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		check := func(e ast.Expr) {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.HasPrefix(s, "../") {
				return
			}
			abs := filepath.Join(filepath.Dir(path), s)
			if rel, err := filepath.Rel(root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				t.Errorf("%s: %q leaves the repository (resolves to %s); commit what the test needs", strings.TrimPrefix(path, root+"/"), s, abs)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr: // a literal handed to a function that opens, runs or joins paths
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && fileFuncs[sel.Sel.Name] {
					for _, a := range x.Args {
						check(a)
					}
				}
			case *ast.ValueSpec: // a constant or variable named for a path, file or folder
				for i, name := range x.Names {
					if i < len(x.Values) && pathName.MatchString(name.Name) {
						check(x.Values[i])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d test files found under %s", checked, root)
	}
}
