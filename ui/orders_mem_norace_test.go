//go:build !race

package ui

const rowBoundChecked = true
