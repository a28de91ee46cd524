package cache

import (
	"strings"
	"testing"
)

func TestTopLevelName(t *testing.T) {
	for in, want := range map[string]string{
		"main.run": "run", "main.run.func1": "run", "main.main.func2.1": "main",
		"main.(*T).M": "T", "main.T.M": "T", "main.g[...]": "g",
	} {
		if got := topLevelName(in); got != want {
			t.Errorf("topLevelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReachableDecls(t *testing.T) {
	src := `package main

import "fmt"

type T struct{ A int }

func (t *T) Double() int { return 2 * t.A }

var scale = 3

const unused = 7

func helper() int { return scale }

func run() int { t := &T{A: helper()}; return t.Double() }

func other() int { return unused }

func init() { fmt.Print("") }

func main() { fmt.Println(run()) }
`
	got, err := reachableDecls("main.go", []byte(src), "run")
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{"type T struct", "func (t *T) Double", "var scale", "func helper", "func run", "func init"} {
		if !strings.Contains(s, want) {
			t.Errorf("reachable from run: missing %q in\n%s", want, s)
		}
	}
	for _, not := range []string{"func other", "const unused", "func main"} {
		if strings.Contains(s, not) {
			t.Errorf("reachable from run: %q should not be there", not)
		}
	}
	if _, err := reachableDecls("main.go", []byte(src), "missing"); err == nil {
		t.Error("an unknown root was accepted")
	}
}
