package ui

import (
	"slices"
	"strings"
	"testing"

	"paydesk/model"
)

// piiReason is the reason that once reached a provider verbatim while the
// confirmation showed "card •••• 1111".
const piiReason = "card 4111111111111111 ssn 078-05-1120 mail a@b.co"

// formRefusal is the huh validation line ("* reason: ...") on a form.
func formRefusal(v string) string {
	// The message stands beside its field, under the description, and may
	// wrap over the field's lines ("┃ …") until the input ("┃ > …").
	i := strings.LastIndex(v, "✗ ")
	if i < 0 {
		return ""
	}
	var parts []string
	for _, l := range strings.Split(v[i:], "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "┃"))
		if strings.HasPrefix(l, ">") || l == "" {
			break
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// Every provider's refund form refuses a reason holding personal or card
// data (Forage and Digital River send it; for Moyasar it is kept in
// paydesk's journal), naming the field and the rule and keeping what was
// typed; Forage refuses the same in the external order id. Nothing reaches
// the sandbox.
func TestRefundFormRefusesPIIPerProvider(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	fo := m.find(pForage, func(o *model.Order) bool { return refundable(o) && plainOrder(o) && goodCard(o) })
	mpg := m.find(pMPG, mpgRefundable("SAR"))
	ids := m.drRefundable()
	dr := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o)
	})
	s := m.run(120, 40, harnessOpts{})
	for _, c := range []struct {
		prov  int
		order *model.Order
	}{{pForage, fo}, {pMPG, mpg}, {pDR, dr}} {
		// Moyasar stores no reason, but paydesk's journal keeps it: the
		// same guard applies.
		if c.prov != pForage {
			s.keys("esc", "esc")
			s.waitFor("the list", func(v string) bool { return crumb(v) == "Orders" })
			s.switchTo(m, 1, c.prov)
		}
		s.openOrder(c.order.Ref)
		s.keys("R")
		s.waitText("┃ Reason")
		s.typeText(piiReason)
		s.keys("enter")
		v := s.waitText("✗ ")
		line := formRefusal(v)
		for _, want := range []string{"reason", "looks like a card number", "no personal or card data"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: the refusal %q does not say %q", m.provs[c.prov].Name(), line, want)
			}
		}
		if !strings.Contains(v, piiReason) {
			t.Errorf("%s: the typed reason is gone after the refusal:\n%s", m.provs[c.prov].Name(), v)
		}
		if strings.Contains(v, "and press enter to confirm") || focusedField(v) != "┃ Reason" {
			t.Fatalf("%s: the PII reason got past the reason field:\n%s", m.provs[c.prov].Name(), v)
		}
		if c.prov == pForage {
			// A clean reason moves on; a card number in the external
			// order id is refused the same way, by that field's name.
			for range piiReason {
				s.keys("backspace")
			}
			s.typeText("customer changed their mind")
			s.keys("enter")
			s.waitText("┃ Metadata")
			s.keys("enter")
			s.waitText("┃ External order id")
			s.typeText("4111 1111 1111 1111")
			s.keys("enter")
			v = s.waitFor("the external order id refusal", func(v string) bool { return strings.Contains(formRefusal(v), "external order id") })
			if line := formRefusal(v); !strings.Contains(line, "looks like a card number") {
				t.Errorf("forage: the external order id refusal %q does not name the rule", line)
			}
			if !strings.Contains(v, "4111 1111 1111 1111") || strings.Contains(v, "and press enter to confirm") {
				t.Fatalf("forage: the external order id was not kept, or got past the form:\n%s", v)
			}
			// Clean values reach the confirmation, shown exactly as they
			// will be sent (the external order id included).
			for range "4111 1111 1111 1111" {
				s.keys("backspace")
			}
			s.typeText("ORD-77")
			s.keys("enter")
			v = s.waitText("and press enter to confirm")
			for _, want := range []string{"Reason    customer changed their mind", "Ext. id   ORD-77"} {
				if !strings.Contains(v, want) {
					t.Errorf("forage: the confirmation lacks %q:\n%s", want, v)
				}
			}
			s.keys("esc")
			s.waitText("> ORD-77") // back on the form, values kept
		}
		s.keys("esc")
	}
	for i, l := range m.logs {
		l.none(t, 0, "refund forms holding personal data on "+m.provs[i].Name())
	}
}
