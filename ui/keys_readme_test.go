package ui

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
)

// TestREADMEKeysMatchKeyMap: the README's Keys table and the key map are
// one contract (DESIGN.md). Every key the README lists is bound, and every
// key the console binds is in the README, so a new binding without a row,
// or a row for a key that was dropped, fails here.
func TestREADMEKeysMatchKeyMap(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := readmeKeys(t, string(readme))

	bound := map[string]bool{}
	km := reflect.ValueOf(*DefaultKeys(false))
	for i := range km.NumField() {
		b, ok := km.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("KeyMap.%s has no help: ? could not show it", km.Type().Field(i).Name)
		}
		for _, k := range b.Keys() {
			bound[k] = true
		}
	}

	for k := range documented {
		if !bound[k] {
			t.Errorf("README's Keys table lists %q, which no binding in keys.go has", k)
		}
	}
	for k := range bound {
		if !documented[k] {
			t.Errorf("keys.go binds %q, which README's Keys table does not list", k)
		}
	}
}

// readmeKeys reads the key column of README's "## Keys" table: every
// `quoted` key in it, arrows spelled as Bubble Tea names them. The action
// column is prose (it quotes what is typed after d, say) and is not read.
func readmeKeys(t *testing.T, readme string) map[string]bool {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Keys\n")
	if !ok {
		t.Fatal(`README.md has no "## Keys" section`)
	}
	arrows := map[string]string{"←": "left", "→": "right", "↑": "up", "↓": "down"}
	quoted := regexp.MustCompile("`([^`]+)`")
	keys := map[string]bool{}
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if rows > 0 {
				break // the table ended
			}
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "key" {
			continue
		}
		rows++
		for _, m := range quoted.FindAllStringSubmatch(cells[1], -1) {
			k := m[1]
			if a, ok := arrows[k]; ok {
				k = a
			}
			keys[k] = true
		}
	}
	if rows == 0 {
		t.Fatal("README's Keys section has no table rows")
	}
	if !keys["enter"] || !keys["q"] {
		t.Fatalf("README's key table read wrong: %v", slices.Sorted(maps.Keys(keys)))
	}
	return keys
}
