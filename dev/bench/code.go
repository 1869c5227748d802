package bench

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Code is what the shipped code (functions/ and internal/) holds that the
// targets bound.
type Code struct {
	// TrulienceLines counts the non-test lines of internal/trulience and
	// everything under it.
	TrulienceLines int
	// LowLevel are the shipped files importing syscall or golang.org/x/sys.
	LowLevel []string
	// Inits are the shipped packages (directories) with an init function.
	Inits []string
}

// MeasureCode reads the shipped Go files under root.
func MeasureCode(root string) (Code, error) {
	var c Code
	fset := token.NewFileSet()
	for _, top := range []string{"functions", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, "internal/trulience/") {
				c.TrulienceLines += bytes.Count(src, []byte("\n"))
			}
			f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == "syscall" || strings.HasPrefix(p, "golang.org/x/sys") {
					c.LowLevel = append(c.LowLevel, rel)
				}
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if dir := filepath.ToSlash(filepath.Dir(rel)); ok && fn.Recv == nil && fn.Name.Name == "init" && !slices.Contains(c.Inits, dir) {
					c.Inits = append(c.Inits, dir)
				}
			}
			return nil
		})
		if err != nil {
			return c, fmt.Errorf("reading %s: %w", top, err)
		}
	}
	return c, nil
}
