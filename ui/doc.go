// Package ui is the Bubble Tea console: one root model that owns a stack of
// screens per provider and a shared Context, the screens themselves (one per
// file), forms and confirmations as modal screens, keys and styles.
//
// Where things are:
//
//	session.go           one terminal's console: renderer, styles, identity, shared services
//	app.go               the root model: stacks, routing, chrome, help, quit guard
//	screen.go, base.go   the Screen interface; what every screen embeds (id, context, push/pop)
//	context.go           what every screen shares (size, keys, providers, clock)
//	keys.go              every key binding (README's Keys table must match it)
//	actions.go           a screen's action table: key handling and help from one list
//
//	orders.go            the orders list (home of each provider); orders_range.go its
//	                     date range (d, t, [ ]); orders_true.go keeping loaded rows current;
//	                     orders_refunds.go the Refunds column where rows lack it (Forage);
//	                     orders_mem.go the compact store of loaded rows (about 100 B a row);
//	                     orders_filter.go the / filter, read off that store
//	memory.go            the console's heap bound (soft limit after each collection) and
//	                     returning a dropped list's memory to the OS
//	search.go            g: one search across every provider, from the order index
//	order_detail.go      one order: header, payments and refunds tables
//	payment_detail.go    one payment, every field
//	refund_detail.go     one refund, its status and whether it settled
//	live_screen.go       what those three share: reads, ticks, pause, action results
//	live.go              polling state and the live badge; ago_clock.go "updated 8s ago"
//	refund_outcome.go    how a refund ended: lost, settled, the status line that says so
//	action_result.go     what an action screen pops back with and how it merges in
//
//	refund_action.go     the refund form, the refund plan and its confirmations
//	cancel_action.go     the cancel confirmation
//	edit_metadata.go     the metadata editor
//	confirm.go           the typed confirmation every money action goes through
//	idempotency_keys.go  idempotency keys, once per logical action; the confirmation word
//	refusals.go          what a key says when it cannot act here (read-only, no edits)
//
//	layout.go, detail_sections.go, scroller.go, table.go, format.go, styles.go
//	                     drawing: label/value cells, sections of detail pages, tables, text
//	metadata_line.go     metadata as one "k=v; k=v" line
//	errors.go            an error in words for the agent; clipboard.go OSC 52 copy
package ui
