package safetext

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkInvariants asserts what every sanitised string must satisfy.
func checkInvariants(t *testing.T, name, in string, block bool) string {
	t.Helper()
	f, max := Line, MaxLineRunes
	if block {
		f, max = Block, MaxBlockRunes
	}
	out := f(in)
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not valid UTF-8: %q", name, out)
	}
	// A 0x9B byte may only appear as a UTF-8 continuation byte (as in "ϛ");
	// valid UTF-8 plus no U+009B rune guarantees there is no 8-bit CSI.
	if strings.IndexByte(out, 0x1b) >= 0 || strings.ContainsRune(out, 0x9b) {
		t.Errorf("%s: output contains ESC/CSI: %q", name, short(out))
	}
	for _, r := range out {
		switch {
		case r == '\n' && block:
		case unicode.IsControl(r):
			t.Errorf("%s: control rune %U in %q", name, r, out)
		case unicode.Is(unicode.Bidi_Control, r):
			t.Errorf("%s: bidi control %U in %q", name, r, out)
		case unicode.Is(unicode.Cf, r):
			t.Errorf("%s: format rune %U in %q", name, r, out)
		case r == '\u2028' || r == '\u2029':
			t.Errorf("%s: line separator %U in %q", name, r, out)
		}
	}
	if n := utf8.RuneCountInString(out); n > max {
		t.Errorf("%s: %d runes, cap is %d", name, n, max)
	}
	if again := f(out); again != out {
		t.Errorf("%s: not idempotent:\n once  %q\n twice %q", name, short(out), short(again))
	}
	return out
}

// short keeps failure messages readable for huge values.
func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "...(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}

type corpusEntry struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func readCorpus(t *testing.T, path string) []corpusEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("hostile corpus %s not found (the shared folder is not beside this checkout); the embedded copy in testdata still runs", path)
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for ln := 1; sc.Scan(); ln++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, ln, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: empty corpus", path)
	}
	return out
}

// mustKeep lists harmless visible text that has to survive sanitising.
var mustKeep = map[string][]string{
	"osc52-clipboard-bel":       {"after"},
	"osc52-clipboard-st":        {"after"},
	"osc8-hyperlink":            {"click me"},
	"osc0-title":                {"order"},
	"csi-clear-screen":          {"fake screen"},
	"csi-cursor-up-overwrite":   {"line", "replaced"},
	"sgr-hide-text":             {"hidden"},
	"sgr-unterminated-red":      {"red forever"},
	"c1-csi-raw-byte-u009b":     {"c1 csi"},
	"carriage-return-overwrite": {"REFUND OK", "FAILED!!!"},
	"backspace-overwrite":       {"amount 10", "99"},
	"bell":                      {"ding"},
	"bidi-rlo":                  {"refund ", "0001 DRS"},
	"bidi-isolates":             {"abc", "def"},
	"zero-width-joiners":        {"re", "fu", "nd"},
	"newline-injection-row":     {"first", "second row"},
	"wide-cjk":                  {"退款订单"},
	"emoji-zwj":                 {"👩", "👦", " family"},
	"combining":                 {"e\u0301\u0301\u0301\u0301"},
	"arabic":                    {"متجر الإسم العربي"},
}

// mustNotKeep lists attacker payload that must not be shown as text.
var mustNotKeep = map[string][]string{
	"osc52-clipboard-bel":   {"52", "ZWNo"},
	"osc52-clipboard-st":    {"52", "ZWNo"},
	"osc8-hyperlink":        {"evil"},
	"osc0-title":            {"pwned"},
	"osc2-title-and-report": {"21t", "x"},
	"csi-clear-screen":      {"[2J", "[H"},
	"dcs":                   {"$r", "0m"},
	"apc":                   {"payload"},
	"pm":                    {"privacy"},
	"c1-csi-raw-byte-u009b": {"31m"},
	"c1-osc-u009d":          {"title"},
}

func testCorpus(t *testing.T, path string) {
	for _, e := range readCorpus(t, path) {
		t.Run(e.Name, func(t *testing.T) {
			out := checkInvariants(t, e.Name, e.Value, false)
			checkInvariants(t, e.Name, e.Value, true)
			if strings.IndexByte(out, 0x9b) >= 0 || strings.IndexByte(out, 0x1b) >= 0 {
				t.Errorf("Line output has a 0x1B/0x9B byte: %q", short(out))
			}
			if strings.ContainsAny(out, "\n\t\r") {
				t.Errorf("Line kept a line break or tab: %q", out)
			}
			for _, want := range mustKeep[e.Name] {
				if !strings.Contains(out, want) {
					t.Errorf("Line(%q) = %q, lost visible text %q", short(e.Value), short(out), want)
				}
			}
			for _, bad := range mustNotKeep[e.Name] {
				if strings.Contains(out, bad) {
					t.Errorf("Line(%q) = %q, still shows payload %q", short(e.Value), short(out), bad)
				}
			}
			if out != e.Value && !strings.Contains(out, Placeholder) &&
				!strings.Contains(out, NewlineMarker) && !strings.Contains(e.Value, "\t") &&
				!strings.HasSuffix(out, Ellipsis) &&
				!strings.Contains(e.Value, "\u200d") {
				t.Errorf("Line(%q) = %q: changed without a visible placeholder", short(e.Value), short(out))
			}
		})
	}
}

func TestHostileCorpusShared(t *testing.T) {
	testCorpus(t, "../../../shared/hostile-strings.jsonl")
}

func TestHostileCorpusEmbedded(t *testing.T) {
	testCorpus(t, "testdata/hostile-strings.jsonl")
}

func TestLine(t *testing.T) {
	long := strings.Repeat("x", MaxLineRunes+10)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"clean ascii", "order ORD-1234 refunded 20.00 USD", "order ORD-1234 refunded 20.00 USD"},
		{"clean unicode", "Café Ünïcödé 退款 🙂", "Café Ünïcödé 退款 🙂"},
		{"literal replacement char kept", "a\uFFFDb", "a\uFFFDb"},

		// ESC sequences
		{"osc52 bel", "\x1b]52;c;ZWNo\x07after", "�after"},
		{"osc st", "\x1b]0;t\x1b\\x", "�x"},
		{"osc c1 st", "\x1b]0;t\u009cx", "�x"},
		{"osc raw st byte", "\x1b]0;t\x9cx", "�x"},
		{"osc unterminated swallows rest", "a\x1b]8;;http://evil click", "a�"},
		{"osc ended by new esc", "\x1b]0;t\x1b[31mred", "�red"},
		{"osc cancelled by CAN", "\x1b]0;t\x18ok", "�ok"},
		{"osc with utf8 payload", "\x1b]0;✓ done\x07ok", "�ok"},
		{"csi", "\x1b[2J\x1b[Hx", "�x"},
		{"csi private", "\x1b[?1049hx", "�x"},
		{"csi title report", "\x1b[21tx", "�x"},
		{"csi cut by control", "\x1b[31\x07m", "�m"},
		{"csi unterminated at end", "x\x1b[12;", "x�"},
		{"dcs", "\x1bP1$r0m\x1b\\ok", "�ok"},
		{"sos", "\x1bXhidden\x1b\\ok", "�ok"},
		{"pm", "\x1b^hidden\x1b\\ok", "�ok"},
		{"apc", "\x1b_hidden\x1b\\ok", "�ok"},
		{"two byte reset", "\x1bcok", "�ok"},
		{"two byte save cursor", "a\x1b7b", "a�b"},
		{"nF charset", "\x1b(Bok", "�ok"},
		{"nF decaln", "\x1b#8ok", "�ok"},
		{"lone esc at end", "ok\x1b", "ok�"},
		{"esc esc", "\x1b\x1b[1mok", "�ok"},
		{"esc then two-byte", "\x1b\x1bok", "�k"},
		{"esc before utf8", "\x1bé", "�é"},

		// C1 as runes and raw bytes
		{"u009b csi eats params", "\u009b31mc1", "�c1"},
		{"u009d osc to u009c", "\u009d0;title\u009cok", "�ok"},
		{"u009d osc to bel", "\u009d0;title\x07ok", "�ok"},
		{"u0090 dcs", "\u0090q#0\u009cok", "�ok"},
		{"u0085 nel", "a\u0085b", "a�b"},
		{"raw 9b byte csi", "\x9b31mok", "�ok"},
		{"raw 9d byte osc", "\x9d0;x\x07ok", "�ok"},
		{"raw c1 byte", "a\x84b", "a�b"},

		// invalid UTF-8
		{"invalid byte", "a\xffb", "a�b"},
		{"invalid run is one placeholder", "a\xff\xfe\xfdb", "a�b"},
		{"truncated utf8", "a\xe2\x82", "a�"},
		{"surrogate", "a\xed\xa0\x80b", "a�b"},

		// C0, DEL
		{"cr overwrite", "OK\rFAIL", "OK�FAIL"},
		{"crlf is a newline", "a\r\nb", "a␤b"},
		{"bs", "10\b\b99", "10�99"},
		{"bel", "a\x07b", "a�b"},
		{"nul", "a\x00b", "a�b"},
		{"del", "a\x7fb", "a�b"},
		{"vt ff", "a\vb\fc", "a�b�c"},
		{"mixed run is one placeholder", "a\x00\x1b[1m\u202e\x7fb", "a�b"},

		// line breaks and tabs
		{"newline", "a\nb", "a␤b"},
		{"two newlines", "a\n\nb", "a␤␤b"},
		{"tab", "a\tb", "a b"},
		{"line separator", "a\u2028b\u2029c", "a␤b␤c"},

		// bidi and format characters
		{"rlo", "refund \u202e0001\u202c", "refund �0001�"},
		{"isolates", "\u2066abc\u2069", "�abc�"},
		{"lrm rlm alm", "a\u200eb\u200fc\u061cd", "a�b�c�d"},
		{"zero width", "re\u200bfu\u200cnd\u200d", "re�fu�nd�"},
		{"word joiner bom", "a\u2060b\ufeffc", "a�b�c"},
		{"soft hyphen", "a\u00adb", "a�b"},
		{"tag characters", "a\U000E0041\U000E0042b", "a�b"},
		{"interlinear annotation", "a\ufff9b\ufffbc", "a�b�c"},
		{"zwj between letters flagged", "a\u200db", "a�b"},
		{"zwj emoji glue dropped", "👩\u200d👩\u200d👧", "👩👩👧"},
		{"zwj emoji after vs16", "❤\ufe0f\u200d🔥", "❤\ufe0f🔥"},
		{"zwj after removal flagged", "👩\x1b\u200d👩", "👩�👩"},

		// cap
		{"long is capped", long, strings.Repeat("x", MaxLineRunes-1) + Ellipsis},
		{"exactly cap", long[:MaxLineRunes], long[:MaxLineRunes]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkInvariants(t, tt.name, tt.in, false)
			if got != tt.want {
				t.Errorf("Line(%q)\n got  %q\n want %q", short(tt.in), short(got), short(tt.want))
			}
		})
	}
}

func TestBlock(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keeps newlines", "first\nsecond", "first\nsecond"},
		{"crlf", "a\r\nb\r\n", "a\nb\n"},
		{"lone cr flagged", "a\rb", "a�b"},
		{"line separators become newlines", "a\u2028b\u2029c", "a\nb\nc"},
		{"tab to stop", "a\tb", "a   b"},
		{"tab at stop", "abcd\te", "abcd    e"},
		{"tab after newline", "ab\n\tc", "ab\n    c"},
		{"tab after wide rune", "退\tx", "退  x"},
		{"escapes removed", "a\x1b[2J\nb\x1b]0;t\x07", "a�\nb�"},
		{"controls flagged", "a\x00\nb", "a�\nb"},
		{"long is capped", strings.Repeat("y\n", MaxBlockRunes), strings.Repeat("y\n", MaxBlockRunes/2-1) + "y" + Ellipsis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkInvariants(t, tt.name, tt.in, true)
			if got != tt.want {
				t.Errorf("Block(%q)\n got  %q\n want %q", short(tt.in), short(got), short(tt.want))
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello world", 5, "hell…"},
		{"hello", 1, "…"},
		{"hello", 0, ""},
		{"hello", -3, ""},
		{"退款订单", 8, "退款订单"},
		{"退款订单", 7, "退款订…"},
		{"退款订单", 6, "退款…"},
		{"退款订单", 2, "…"},
		{"👩\u200d👩\u200d👧 family", 5, "👩👩…"},
		{"e\u0301\u0301xyz", 3, "e\u0301\u0301x…"},
		{"\x1b]52;c;ZWNo\x07after", 4, "�af…"},
		{"a\nb", 3, "a␤b"},
	}
	// Under an East Asian width setting (RUNEWIDTH_EASTASIAN=1 or a CJK
	// locale) "…" is two cells wide and the exact cuts differ; the width
	// bound and cleanliness still hold.
	exact := displayWidth(Ellipsis) == 1
	for _, tt := range tests {
		got := Truncate(tt.in, tt.width)
		if exact && got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if tt.width > 0 && displayWidth(got) > tt.width {
			t.Errorf("Truncate(%q, %d) = %q is %d cells wide", tt.in, tt.width, got, displayWidth(got))
		}
		if got != Line(got) {
			t.Errorf("Truncate(%q, %d) = %q is not clean", tt.in, tt.width, got)
		}
	}
}

func TestIsClean(t *testing.T) {
	if !IsClean("ORD-1 20.00 USD 退款") {
		t.Error("clean string reported dirty")
	}
	if IsClean("a\x1b[1m") || IsClean("a\nb") || IsClean("a\u202eb") {
		t.Error("dirty string reported clean")
	}
}

func TestCleanFastPathAllocs(t *testing.T) {
	for _, s := range []string{"order ORD-1234 refunded 20.00 USD ok ok", "Café 退款 🙂 ok"} {
		if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
			t.Errorf("Line(%q) allocates %.0f times, want 0", s, n)
		}
	}
	s := "line one\nline two"
	if n := testing.AllocsPerRun(100, func() { _ = Block(s) }); n != 0 {
		t.Errorf("Block(%q) allocates %.0f times, want 0", s, n)
	}
}

func TestHugeInputIsBounded(t *testing.T) {
	// An unterminated OSC followed by megabytes of text: one placeholder.
	huge := "ok\x1b]52;c;" + strings.Repeat("A", 4<<20)
	if got := Line(huge); got != "ok�" {
		t.Errorf("got %q", got[:min(len(got), 40)])
	}
	// Megabytes of junk controls: capped output, not proportional to input.
	junk := strings.Repeat("a\x00", 1<<20)
	out := checkInvariants(t, "junk", junk, false)
	if utf8.RuneCountInString(out) != MaxLineRunes {
		t.Errorf("junk output has %d runes", utf8.RuneCountInString(out))
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\x1b]52;c;ZWNo\x07after", "\x1b[31mred", "\u009b31m", "\x9b31m",
		"a\r\nb", "\u202e123", "👩\u200d👩", "a\tb\nc", "\x1b]0;\xe2\x9c\x93", "\xc2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInvariants(t, "fuzz", s, false)
		checkInvariants(t, "fuzz", s, true)
		if tr := Truncate(s, 10); displayWidth(tr) > 10 || Line(tr) != tr {
			t.Errorf("Truncate(%q, 10) = %q", s, tr)
		}
	})
}

func BenchmarkLineClean(b *testing.B) {
	s := "ORD-20261122-0042 refund 20.00 USD ok!!" // 40 chars
	b.ReportAllocs()
	for b.Loop() {
		_ = Line(s)
	}
}

func BenchmarkLineHostile(b *testing.B) {
	s := "\x1b]52;c;ZWNobyBwd25lZA==\x07refund \u202e0001\u202c\r\nok"
	b.ReportAllocs()
	for b.Loop() {
		_ = Line(s)
	}
}
