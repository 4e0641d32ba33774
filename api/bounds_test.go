package api

import (
	"errors"
	"strings"
	"testing"

	"paydesk/model"

	"paydesk/api/sandbox/sandboxtest"
)

// hugeObject is sandboxtest.ManyKeys as a string, for the bodies these
// tests put together by concatenation.
func hugeObject(n int) string { return string(sandboxtest.ManyKeys(n)) }

func hugeList(n int, item string) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func TestCheckBoundsNamesTheLongList(t *testing.T) {
	cases := []struct {
		body, field string
		list        bool
	}{
		{`{"id":"o1","charges":` + hugeList(MaxListLen+1, `{"id":"c"}`) + `}`, "charges", true},
		{`{"data":[{"items":` + hugeList(MaxListLen+1, `1`) + `}]}`, "data[].items", true},
		{hugeList(MaxListLen+1, `{}`), "the answer", true},
		{`{"stateTransitions":` + hugeObject(MaxObjectMembers+1) + `}`, "stateTransitions", false},
		// a page of objects, each with a full metadata set: each would be
		// kept whole, so together they are refused
		{`{"data":` + hugeList(MaxAnswerMetadataKeys/model.MaxReadMetadataKeys+1, `{"metadata":`+hugeObject(model.MaxReadMetadataKeys)+`}`) + `}`, "data[].metadata", false},
	}
	for _, c := range cases {
		err := CheckBounds([]byte(c.body))
		var be *BoundsError
		if !errors.As(err, &be) || be.Field != c.field || be.List != c.list {
			t.Errorf("%.60s…: got %v, want a bounds error on %s", c.body, err, c.field)
		}
	}
	ok := []string{
		`{"charges":` + hugeList(MaxListLen, `{"id":"c"}`) + `}`,
		`{"metadata":` + hugeObject(MaxObjectMembers+5) + `}`,
		`{"data":[{"metadata":` + hugeObject(MaxObjectMembers+5) + `}]}`,
		`{"data":` + hugeList(MaxAnswerMetadataKeys/model.MaxReadMetadataKeys, `{"metadata":`+hugeObject(model.MaxReadMetadataKeys+50)+`}`) + `}`,
		// commas, brackets and escaped quotes inside strings are text
		`{"reason":"` + strings.Repeat(`a,[{\",`, 3000) + `"}`,
		`[]`, `{}`, `not json at all`,
	}
	for _, b := range ok {
		if err := CheckBounds([]byte(b)); err != nil {
			t.Errorf("%.60s…: %v", b, err)
		}
	}
}

func TestObjectMembersKeepsTheFirstAndCountsAll(t *testing.T) {
	const n = 1_000_000
	kept, total, ok := ObjectMembers([]byte(hugeObject(n)))
	if !ok || total != n || len(kept) != model.MaxReadMetadataKeys {
		t.Fatalf("kept %d, total %d, ok %v; want %d of %d", len(kept), total, ok, model.MaxReadMetadataKeys, n)
	}
	if kept[0].Key != "k0000000" || string(kept[0].Value) != `""` {
		t.Fatalf("first member %+v", kept[0])
	}
	kept, total, _ = ObjectMembers([]byte(" { \"a\" : 1 ,\n\"b\\u0041\":{\"x\":[1,\"}\\\"\"]}, \"a\":\"2\" , \"n\": null } "))
	if len(kept) != 3 || total != 3 || string(kept[0].Value) != `"2"` || kept[1].Key != "bA" ||
		string(kept[1].Value) != `{"x":[1,"}\""]}` || string(kept[2].Value) != "null" {
		t.Fatalf("small object: %q total %d", kept, total)
	}
	if kept, total, _ := Members([]byte(`{"a":1,"b":2,"c":3}`), 2); len(kept) != 2 || total != 3 {
		t.Fatalf("cut at 2: %q total %d", kept, total)
	}
	if kept, total, _ := Members([]byte(`{"a":1,"b":2}`), 2); len(kept) != 2 || total != 2 {
		t.Fatalf("exactly 2: %q total %d", kept, total)
	}
	if _, _, ok := ObjectMembers([]byte(`null`)); ok {
		t.Fatal("null read as an object")
	}
}

func BenchmarkObjectMembersMillion(b *testing.B) {
	body := []byte(hugeObject(1_000_000))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ObjectMembers(body)
	}
}
