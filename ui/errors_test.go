package ui

import (
	"strings"
	"testing"

	"paydesk/api"
)

// DescribeError shows the advice the provider package or the transport put
// on the error; the screens keep no table of provider codes.
func TestDescribeErrorShowsHint(t *testing.T) {
	cases := []struct {
		name string
		err  *api.Error
		want string
	}{
		{
			name: "provider advice",
			err: &api.Error{Provider: "forage", HTTPStatus: 400, Code: "wait_for_batch_refund", Message: "Active refunds pending.",
				Hint: "refunds on this order are still processing; refund again once they have settled"},
			want: "forage 400 wait_for_batch_refund: Active refunds pending. — refunds on this order are still processing; refund again once they have settled",
		},
		{
			name: "no advice, no dash",
			err:  &api.Error{Provider: "moyasar", HTTPStatus: 404, Message: "Object not found"},
			want: "moyasar 404 Object not found",
		},
		{
			name: "advice is made terminal-safe",
			err:  &api.Error{Provider: "forage", HTTPStatus: 401, Code: "invalid_client", Hint: "check \x1b[2JFORAGE_CLIENT_ID"},
			want: "forage 401 invalid_client: — check",
		},
	}
	for _, c := range cases {
		got := DescribeError(c.err)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		if strings.ContainsRune(got, '\x1b') {
			t.Errorf("%s: escape reached the screen: %q", c.name, got)
		}
	}
}

// A code the old table knew means nothing without a hint: the provider
// decides what to advise.
func TestDescribeErrorHasNoProviderTable(t *testing.T) {
	got := DescribeError(&api.Error{Provider: "digitalriver", HTTPStatus: 401, Code: "invalid_token", Message: "bad"})
	if strings.Contains(got, "FORAGE") || strings.Contains(got, " — ") {
		t.Errorf("got %q: advice must come from the error's Hint", got)
	}
}
