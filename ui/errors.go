package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"paydesk/api"
	"paydesk/model/safetext"
)

// DescribeError renders an error for the status line: provider, HTTP status,
// the provider's code and message (made terminal-safe), and the advice the
// provider package or the transport put on the error (api.Error.Hint): the
// screens hold no provider knowledge.
func DescribeError(err error) string {
	if err == nil {
		return ""
	}
	if te, ok := api.AsThrottled(err); ok {
		return "Throttled: the provider's request budget, shared by every session, is spent for now; nothing was sent. Try again in " + te.Seconds() + "."
	}
	switch {
	case errors.Is(err, api.ErrReadOnly):
		return "Refused: this console is read-only (--read-only); nothing was sent."
	case errors.Is(err, api.ErrNotSupported):
		return "Refused: the provider does not support this action."
	}
	e, ok := api.AsError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			return "Timed out waiting for the provider. " + safetext.Line(err.Error())
		}
		return safetext.Line(err.Error())
	}
	var b strings.Builder
	if api.IsOutcomeUnknown(err) {
		b.WriteString("OUTCOME UNKNOWN — the request was sent but no answer came back; do not retry by hand, paydesk will check. ")
	}
	if e.Provider != "" {
		b.WriteString(e.Provider + " ")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "%d ", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(safetext.Line(e.Code) + ": ")
	}
	switch {
	case e.Message != "":
		b.WriteString(safetext.Line(e.Message))
	case e.Err != nil:
		b.WriteString(safetext.Line(e.Err.Error()))
	}
	for _, f := range e.Fields {
		if f.Message != e.Message {
			fmt.Fprintf(&b, " (%s: %s)", safetext.Line(f.Field), safetext.Line(f.Message))
		}
	}
	out := strings.TrimSpace(b.String())
	if e.Hint != "" {
		out += " — " + safetext.Line(e.Hint)
	}
	return out
}
