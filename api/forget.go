package api

// Forget drops what p (a provider from Shared) has cached of an order, so
// the next read goes to the provider. The bridge of a shared store calls it
// when another host changed the order: this process's own changes forget
// it already, but another host's cannot reach this cache any other way. A
// provider that is not shared caches nothing, so there is nothing to do.
func Forget(p Provider, orderID string) {
	if s, ok := p.(*shared); ok {
		s.forget(orderID)
	}
}
