package ui

import "testing"

// COLORFGBG's last field names the background: 7 and 15 are light, any
// other value or none at all means dark (the terminal is never asked).
func TestDarkBackgroundFromCOLORFGBG(t *testing.T) {
	for v, dark := range map[string]bool{"": true, "15;0": true, "0;15": false, "0;7": false, "0;default;15": false, "garbage": true} {
		if got := DarkBackground(func(k string) string {
			if k == "COLORFGBG" {
				return v
			}
			return ""
		}); got != dark {
			t.Errorf("COLORFGBG=%q: dark %v, want %v", v, got, dark)
		}
	}
}
