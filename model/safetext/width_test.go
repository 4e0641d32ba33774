package safetext

import "github.com/charmbracelet/x/ansi"

func displayWidth(s string) int { return ansi.StringWidth(s) }
