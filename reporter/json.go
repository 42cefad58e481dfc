package reporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// WriteJSON writes the report as indented JSON (schemaVersion first).
func WriteJSON(w io.Writer, r *Report) error {
	je := jsonEncoders.Get().(*jsonEncoder)
	defer jsonEncoders.Put(je)
	je.buf.Reset()
	if err := je.enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(je.buf.Bytes())
	return err
}

// jsonEncoder is an indenting encoder with its output buffer, reused: a
// target's report is some 600 kB, and a run of many targets writes one per
// target (a fresh encoder grew its indentation buffer from nothing each
// time).
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	je := &jsonEncoder{}
	je.enc = json.NewEncoder(&je.buf)
	je.enc.SetIndent("", "  ")
	return je
}}

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
