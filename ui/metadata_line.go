package ui

import (
	"fmt"
	"strings"

	"paydesk/model"
	"paydesk/model/safetext"
)

// parseMetadataLine reads "key=value; key2=value2" from a one-line input.
func parseMetadataLine(s string) (model.Metadata, error) {
	md := model.Metadata{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("metadata: %q is not key=value (separate entries with ';')", part)
		case k == "":
			return nil, fmt.Errorf("metadata: %q has no key before '='", part)
		}
		if _, dup := md[k]; dup {
			return nil, fmt.Errorf("metadata: key %q appears twice", k)
		}
		md[k] = strings.TrimSpace(v)
	}
	if errs := model.ValidateMetadata(md); len(errs) > 0 {
		return nil, errs
	}
	return md, nil
}

// metadataText shows metadata as "k=v; k=v" for one-line cells, terminal-safe.
func metadataText(md model.Metadata) string {
	if len(md) == 0 {
		return "—"
	}
	parts := make([]string, 0, len(md))
	for _, k := range md.Keys() {
		parts = append(parts, safetext.Line(k)+"="+safetext.Line(md[k]))
	}
	return strings.Join(parts, "; ")
}

// metadataCanon is metadata in sorted key order, for deriving keys.
func metadataCanon(md model.Metadata) string {
	var b strings.Builder
	for _, k := range md.Keys() {
		b.WriteString(k + "=" + md[k] + "\x1e")
	}
	return b.String()
}
