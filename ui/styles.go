package ui

import (
	"github.com/charmbracelet/lipgloss"

	"paydesk/model"
)

// Styles are built once per session from that session's lipgloss renderer
// (the local terminal's, or under paydesk serve the SSH client's), never from
// the global one, so each agent gets colours their own terminal can show.
// Colour always comes with a glyph or a marker: under --no-color or NO_COLOR
// the Ascii profile drops every style, and nothing may depend on it alone.
type Styles struct {
	R *lipgloss.Renderer

	Header, HeaderTab, HeaderActive, Sandbox, ReadOnly lipgloss.Style
	Crumb, CrumbSep                                    lipgloss.Style
	Title, Label, Value, Faint, Bold                   lipgloss.Style
	TableHeader, Row, Selected, SelectedDim            lipgloss.Style
	StatusOK, StatusErr, StatusWarn, StatusInfo        lipgloss.Style
	Footer, FooterKey                                  lipgloss.Style
	Border, Box, Danger, Input, InputFocused, FieldErr lipgloss.Style
	Good, Bad, Pending, Unknown, Neutral               lipgloss.Style
}

// NewStyles builds the palette from a renderer.
func NewStyles(r *lipgloss.Renderer) *Styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B4A7F5"}
	faint := lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	green := lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#7EE787"}
	red := lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"}
	amber := lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"}
	blue := lipgloss.AdaptiveColor{Light: "#0969DA", Dark: "#79C0FF"}
	selBg := lipgloss.AdaptiveColor{Light: "#DDF4FF", Dark: "#264F78"}
	s := &Styles{R: r}
	n := r.NewStyle
	s.Header = n().Bold(true)
	s.HeaderTab = n().Foreground(faint)
	s.HeaderActive = n().Bold(true).Foreground(accent).Underline(true)
	s.Sandbox = n().Bold(true).Foreground(lipgloss.Color("#1E1E2E")).Background(amber).Padding(0, 1)
	s.ReadOnly = n().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(blue).Padding(0, 1)
	s.Crumb = n().Foreground(faint)
	s.CrumbSep = n().Foreground(faint)
	s.Title = n().Bold(true).Foreground(accent)
	s.Label = n().Foreground(faint)
	s.Value = n()
	s.Faint = n().Foreground(faint)
	s.Bold = n().Bold(true)
	s.TableHeader = n().Bold(true).Foreground(accent)
	s.Row = n()
	s.Selected = n().Bold(true).Background(selBg)
	s.SelectedDim = n().Underline(true)
	s.StatusOK = n().Foreground(green)
	s.StatusErr = n().Bold(true).Foreground(red)
	s.StatusWarn = n().Foreground(amber)
	s.StatusInfo = n().Foreground(faint)
	s.Footer = n().Foreground(faint)
	s.FooterKey = n().Bold(true)
	s.Border = n().Foreground(faint)
	s.Box = n().Border(lipgloss.RoundedBorder()).BorderForeground(faint).Padding(0, 1)
	s.Danger = n().Bold(true).Foreground(red)
	s.Input = n().Border(lipgloss.NormalBorder(), false, false, true, false).BorderForeground(faint)
	s.InputFocused = n().Border(lipgloss.NormalBorder(), false, false, true, false).BorderForeground(accent)
	s.FieldErr = n().Foreground(red)
	s.Good = n().Foreground(green)
	s.Bad = n().Foreground(red)
	s.Pending = n().Foreground(amber)
	s.Unknown = n().Bold(true).Foreground(amber)
	s.Neutral = n().Foreground(faint)
	return s
}

// ForStatus picks the colour of a status; the glyph carries the meaning.
func (s *Styles) ForStatus(st model.Status) lipgloss.Style {
	switch st {
	case model.StatusSucceeded, model.StatusRefunded, model.StatusPartlyRefunded:
		return s.Good
	case model.StatusFailed:
		return s.Bad
	case model.StatusProcessing, model.StatusRequiresAction, model.StatusDraft:
		return s.Pending
	case model.StatusUnknown:
		return s.Unknown
	}
	return s.Neutral
}

// StatusText is "✓ succeeded" in the status colour.
func (s *Styles) StatusText(st model.Status) string {
	return s.ForStatus(st).Render(st.Glyph() + " " + st.Label())
}
