package model

// Status is a provider-neutral state of an order, payment or refund. Each
// object also keeps the provider's own status string, shown beside it, because
// an agent on the phone with the provider's support needs their word for it.
type Status string

const (
	StatusDraft          Status = "draft"           // created, nothing charged yet
	StatusRequiresAction Status = "requires_action" // waiting for the customer or the merchant
	StatusProcessing     Status = "processing"      // sent; outcome pending
	StatusSucceeded      Status = "succeeded"
	StatusPartlyRefunded Status = "partly_refunded" // orders: some money returned
	StatusRefunded       Status = "refunded"        // orders: all money returned
	StatusFailed         Status = "failed"
	StatusCanceled       Status = "canceled"
	StatusVoided         Status = "voided"
	StatusExpired        Status = "expired"
	// StatusUnknown means the provider could not tell whether money moved (a
	// gateway timeout or system error). It is never shown as failed.
	StatusUnknown Status = "unknown"
)

// Final reports whether the status can no longer change on its own.
func (s Status) Final() bool {
	switch s {
	case StatusSucceeded, StatusPartlyRefunded, StatusRefunded, StatusFailed,
		StatusCanceled, StatusVoided, StatusExpired:
		return true
	}
	return false
}

// Glyph pairs every status with a symbol so it survives --no-color and NO_COLOR.
func (s Status) Glyph() string {
	switch s {
	case StatusDraft:
		return "·"
	case StatusRequiresAction:
		return "○"
	case StatusProcessing:
		return "◔"
	case StatusSucceeded:
		return "✓"
	case StatusPartlyRefunded:
		return "◑"
	case StatusRefunded:
		return "↺"
	case StatusFailed:
		return "✗"
	case StatusCanceled, StatusVoided:
		return "⊘"
	case StatusExpired:
		return "⌛"
	}
	return "?"
}

// Label is the status in words, for tables and headers.
func (s Status) Label() string {
	switch s {
	case StatusRequiresAction:
		return "requires action"
	case StatusPartlyRefunded:
		return "partly refunded"
	case StatusUnknown:
		return "outcome unknown"
	case "":
		return "unknown"
	}
	return string(s)
}
