package api_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/index"
	"paydesk/api/journal"
	"paydesk/model"
)

// bare is the innermost provider the decorators wrap. None of its methods
// run here: the test only inspects the decorators' types.
type bare struct{}

func (bare) ID() string                     { return "bare" }
func (bare) Name() string                   { return "Bare" }
func (bare) Capabilities() api.Capabilities { return api.Capabilities{} }
func (bare) ListOrders(context.Context, api.OrderQuery) (api.OrderPage, error) {
	return api.OrderPage{}, nil
}
func (bare) GetOrder(context.Context, string) (*model.Order, error) { return nil, api.ErrNotSupported }
func (bare) GetRefund(context.Context, string, string) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}
func (bare) UpdatePayment(context.Context, string, string, api.PaymentUpdate) (*model.Payment, error) {
	return nil, api.ErrNotSupported
}
func (bare) UpdateRefund(context.Context, string, string, api.RefundUpdate) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}
func (bare) RefundOrder(context.Context, string, api.RefundOrderRequest) (*api.RefundResult, error) {
	return nil, api.ErrNotSupported
}
func (bare) RefundPayment(context.Context, string, string, api.RefundPaymentRequest) (*api.RefundResult, error) {
	return nil, api.ErrNotSupported
}
func (bare) CancelPayment(context.Context, string, string, api.CancelRequest) (*model.Payment, error) {
	return nil, api.ErrNotSupported
}

// TestDecoratorsImplementEveryMethod guards the safety layers that wrap a
// Provider. A decorator that embeds api.Provider (or any type that brings
// methods along) would pass a method added to Provider later straight
// through to the client, skipping the journal or the read-only guard, and
// still compile. Every decorator must be a struct with no embedded fields
// whose own method set holds every Provider method. A new decorator (the role
// guard) is one more line in the table.
func TestDecoratorsImplementEveryMethod(t *testing.T) {
	j, err := journal.Open(journal.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	decorators := map[string]func(api.Provider) api.Provider{
		"journal.Wrap": func(p api.Provider) api.Provider { return journal.Wrap(p, j, "alice") },
		"api.ReadOnly": api.ReadOnly,
		"index.Wrap":   func(p api.Provider) api.Provider { return index.Wrap(p, index.New(), "") },
		"api.Guard": func(p api.Provider) api.Provider {
			return api.Guard(p, api.RoleAgent, api.DefaultRefundLimits(), nil)
		},
		"api.Shared": func(p api.Provider) api.Provider { return api.Shared(p, time.Second, nil) },
	}
	iface := reflect.TypeFor[api.Provider]()
	if iface.NumMethod() == 0 {
		t.Fatal("api.Provider lists no methods")
	}
	for name, wrap := range decorators {
		t.Run(name, func(t *testing.T) {
			typ := reflect.TypeOf(wrap(bare{}))
			st := typ
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			if st.Kind() != reflect.Struct {
				t.Fatalf("%s is a %s; the check expects a struct (or pointer to one)", typ, st.Kind())
			}
			if st == reflect.TypeFor[bare]() {
				t.Fatalf("%s returned the provider itself, not a decorator", name)
			}
			for i := 0; i < st.NumField(); i++ {
				if f := st.Field(i); f.Anonymous {
					// Any embedded field can promote methods; an embedded
					// interface promotes all of Provider's.
					t.Errorf("%s embeds %s (%s): write each Provider method out instead", st, f.Type, f.Type.Kind())
				}
			}
			for i := 0; i < iface.NumMethod(); i++ {
				m := iface.Method(i)
				got, ok := typ.MethodByName(m.Name)
				if !ok {
					t.Errorf("%s has no method %s", typ, m.Name)
					continue
				}
				// The method's receiver is the decorator itself, and with
				// no embedded fields it cannot be a promoted one.
				if got.Type.NumIn() == 0 || got.Type.In(0) != typ {
					t.Errorf("%s.%s is not defined on %s", typ, m.Name, typ)
				}
			}
		})
	}
}
