package reporter

import (
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v4"
)

// WaiverFile is a list of known failures, each accepted until a date.
//
//	waivers:
//	  - id: ASYM-EXP-01
//	    reason: "ACME-123: clock check lands in 4.2"
//	    expires: 2026-12-31
type WaiverFile struct {
	Waivers []Waiver `yaml:"waivers"`
}

// LoadWaivers reads and checks a waivers file (strictly: unknown keys are errors).
func LoadWaivers(path string) ([]Waiver, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f WaiverFile
	if err := yaml.Load(raw, &f, yaml.WithKnownFields()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, w := range f.Waivers {
		key := fmt.Sprintf("%s: waivers[%d]", path, i)
		switch {
		case w.ID == "":
			return nil, fmt.Errorf("%s.id is required", key)
		case w.Reason == "":
			return nil, fmt.Errorf("%s.reason is required (say why the failure is accepted)", key)
		case seen[w.ID]:
			return nil, fmt.Errorf("%s: case %s is waived twice", key, w.ID)
		}
		if _, err := time.Parse(time.DateOnly, w.Expires); err != nil {
			return nil, fmt.Errorf("%s.expires must be a date YYYY-MM-DD (got %q)", key, w.Expires)
		}
		seen[w.ID] = true
	}
	return f.Waivers, nil
}

// ApplyWaivers marks failed cases that have a waiver as waived (shown with
// the reason, not hidden) while the waiver lasts (through its expiry date,
// in UTC); a failure whose waiver has expired stays failed and says so.
// Waivers for cases that did not fail, or are not in the run, become notes.
// Applying the same waivers again changes nothing. Call Summarize afterwards.
func (r *Report) ApplyWaivers(ws []Waiver, now time.Time) {
	today := now.UTC().Format(time.DateOnly)
	byID := map[string]Waiver{}
	for _, w := range ws {
		byID[w.ID] = w
	}
	for i := range r.Cases {
		c := &r.Cases[i]
		w, ok := byID[c.ID]
		if !ok {
			continue
		}
		delete(byID, c.ID)
		w.Expired = w.Expires < today
		switch {
		case c.Status == Waived:
			// applied already (as the case finished)
		case c.Status != Failed:
			r.Notes = append(r.Notes, fmt.Sprintf("Waiver for %s is not needed: the case is %s.", c.ID, c.Status))
		case w.Expired:
			c.Waiver = &w
			r.Notes = append(r.Notes, fmt.Sprintf("Waiver for %s expired on %s: the failure counts again (%s).", c.ID, w.Expires, w.Reason))
		default:
			c.Waiver = &w
			c.Status = Waived
		}
	}
	for id := range byID {
		r.Notes = append(r.Notes, fmt.Sprintf("Waiver for %s matches no case in this run.", id))
	}
}
