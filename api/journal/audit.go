package journal

import (
	"paydesk/api/audit"
)

// AuditLog adapts paydesk/api/audit's log to an Auditor, for Options.Auditor:
//
//	log, _ := audit.Open(path)
//	j, _ := journal.Open(journal.Options{Auditor: journal.AuditLog(log)})
//
// Notes are not written (the audit log takes no free text); a canceled
// intent (never sent) is "refused", and a prepared or sent one (never
// audited by the journal) would be "prepared".
func AuditLog(l *audit.Log) Auditor { return AuditTo(l) }

// AuditTo adapts any audit.Appender (the file log, or a shared store's
// chain) to an Auditor, writing the same entries AuditLog does.
func AuditTo(l audit.Appender) Auditor {
	return AuditorFunc(func(r AuditRecord) error {
		return l.Append(audit.Entry{
			Time:           r.Time,
			Actor:          r.Actor,
			Provider:       r.Provider,
			Action:         r.Action,
			OrderRef:       r.OrderID,
			PaymentRef:     r.PaymentID,
			RefundRefs:     r.RefundIDs,
			Amount:         r.Amount,
			Currency:       r.Currency,
			IdempotencyKey: r.IdempotencyKey,
			Outcome:        auditOutcome(r.Outcome),
			ErrorCode:      r.ErrorCode,
			Fields:         r.MetadataKeys,
		})
	})
}

func auditOutcome(s State) audit.Outcome {
	switch s {
	case StateSucceeded:
		return audit.Succeeded
	case StateFailed:
		return audit.Failed
	case StateUnknown:
		return audit.Unknown
	case StateCanceled, StateRefused:
		return audit.Refused
	}
	return audit.Prepared
}
