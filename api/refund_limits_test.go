package api_test

import (
	"strings"
	"testing"

	"paydesk/api"
)

func TestParseRefundLimits(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: "*=100"},
		{in: "250.00", want: "*=250"},
		{in: "USD=100.00, sar=400", want: "*=100,SAR=400,USD=100"},
		{in: "*=50,KWD=30.000", want: "*=50,KWD=30"},
		{in: "SAR=1.005", err: "SAR=1.005"},
		{in: "USD=-5", err: "USD=-5"},
		{in: "USD=0", err: "more than zero"},
		{in: "lots", err: "not a positive amount"},
		{in: "XXX=5", err: "XXX=5"},
	} {
		got, err := api.ParseRefundLimits(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), api.EnvRefundLimits) {
				t.Errorf("%q: err %v, want one naming %q and %s", tc.in, err, tc.err, api.EnvRefundLimits)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
	l, _ := api.ParseRefundLimits("USD=10,*=70")
	if m := l.For("USD"); m.Fixed() != "10.00" {
		t.Errorf("USD limit %s", m.Fixed())
	}
	if m := l.For("SAR"); m.Amount.String() != "70" || m.Currency != "SAR" {
		t.Errorf("SAR limit %v", m)
	}
}
