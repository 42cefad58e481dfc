package reporter

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// WriteJSON writes the report as indented JSON (schemaVersion first).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a report written by WriteJSON and summarizes it again, so
// a report written before severities and the one verdict model (a
// "conformant with warnings" that exited 1) reads with today's verdict,
// headline and severity counts; the exit code of a report it wrote itself
// does not change.
func ReadJSON(path string) (*Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schemaVersion %q, this smartconform reads %q", path, r.SchemaVersion, SchemaVersion)
	}
	r.Summarize()
	return &r, nil
}
