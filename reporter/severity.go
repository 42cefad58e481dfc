package reporter

import (
	"fmt"
	"strings"
)

// Severity says how much a failed check matters to someone deciding whether
// to trust a server. Every failed case and every warning carries one; errors,
// skips and passes carry none.
//
// The rule, applied by SeverityFor to each finding (a case takes the highest
// severity among its findings):
//
//   - critical: a token was issued to a request the server must refuse for
//     authentication: a forged, unsigned, wrong-key, expired or replayed
//     assertion, another client's credentials, a wrong secret. Anyone can
//     get tokens from such a server.
//   - high: any other MUST failure where the server accepted or issued what
//     it must refuse, or answered with a 5xx (it could not handle a request
//     it must answer).
//   - medium: a MUST failure in the shape of an answer: wrong status or
//     error code, a missing header, a wrong media type, a malformed field.
//   - low: a SHOULD finding (a warning; a failure only under --fail-on
//     should or --strict).
type Severity string

// The severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Severities lists the severities, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// severityRank orders severities, most severe first; none ranks last.
func severityRank(s Severity) int {
	switch s {
	case SeverityCritical:
		return 0
	case SeverityHigh:
		return 1
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 3
	}
	return 4
}

// Worse returns the more severe of a and b (an empty severity is the least).
func Worse(a, b Severity) Severity {
	if severityRank(b) < severityRank(a) {
		return b
	}
	return a
}

// SeverityFacts is what SeverityFor needs to know about one failed check.
// The engine knows all of it when it records a finding.
type SeverityFacts struct {
	// Level of the check: MUST or SHOULD.
	Level string
	// Negative: the case sends a request the server must refuse.
	Negative bool
	// AuthRefusal: it must be refused for client authentication (a forged,
	// unsigned, wrong-key, expired or replayed assertion, another client's
	// credentials, a wrong secret). Implies Negative.
	AuthRefusal bool
	// TokenIssued: the answer carried an access token (or another grant).
	TokenIssued bool
	// Status of the answer judged; 0 when there was none.
	Status int
}

// SeverityFor applies the rule documented on Severity to one failed check.
// A 2xx answer to a request that must be refused counts as accepted even
// when no token was seen in it.
func SeverityFor(f SeverityFacts) Severity {
	if !strings.EqualFold(f.Level, "MUST") {
		return SeverityLow
	}
	accepted := f.TokenIssued || (f.Status >= 200 && f.Status < 300)
	switch {
	case f.AuthRefusal && f.TokenIssued:
		return SeverityCritical
	case (f.Negative || f.AuthRefusal) && accepted:
		return SeverityHigh
	case f.Status >= 500 && f.Status < 600:
		return SeverityHigh
	}
	return SeverityMedium
}

// FactsFromCase derives SeverityFacts for a finding from what the case
// recorded, for findings the engine recorded without a severity: a negative
// case with a client-authentication method (Case.Method) is an
// authentication refusal, the answer judged is the case's last exchange
// with a status, and a token was issued when that answer is a 2xx whose
// body names an access_token.
func FactsFromCase(c Case, f Finding) SeverityFacts {
	facts := SeverityFacts{Level: f.Level, Negative: c.Polarity == "negative"}
	facts.AuthRefusal = facts.Negative && c.Method != ""
	for i := len(c.Exchanges) - 1; i >= 0; i-- {
		ex := c.Exchanges[i]
		if ex.Status == 0 {
			continue
		}
		facts.Status = ex.Status
		facts.TokenIssued = ex.Status/100 == 2 && strings.Contains(ex.ResponseBody, "access_token")
		break
	}
	return facts
}

// CaseSeverity is the severity a case shows: the highest among its
// findings (a finding without one is judged with FactsFromCase); a warned
// case is low; a failed case without findings is high when it met a 5xx,
// else medium. Passed, skipped, not-run and errored cases have none.
func CaseSeverity(c Case) Severity {
	switch c.Status {
	case Failed, Waived, Warned:
	default:
		return ""
	}
	var worst Severity
	for _, f := range c.Findings {
		s := f.Severity
		if s == "" {
			s = SeverityFor(FactsFromCase(c, f))
		}
		worst = Worse(worst, s)
	}
	if c.Status == Warned {
		return SeverityLow
	}
	if worst == "" {
		worst = SeverityFor(SeverityFacts{Level: "MUST", Status: FactsFromCase(c, Finding{}).Status})
	}
	return worst
}

// AssignSeverities fills in the severity of every finding of a failed,
// waived or warned case, and of the case, where the engine left it empty;
// it clears any severity on cases that have none (passed, skipped, not run,
// errored). Summarize calls it.
func (r *Report) AssignSeverities() {
	for i := range r.Cases {
		c := &r.Cases[i]
		switch c.Status {
		case Failed, Waived, Warned:
			for j := range c.Findings {
				if c.Findings[j].Severity == "" {
					c.Findings[j].Severity = SeverityFor(FactsFromCase(*c, c.Findings[j]))
				}
			}
			if c.Severity == "" {
				c.Severity = CaseSeverity(*c)
			}
			if c.Status == Warned {
				c.Severity = SeverityLow
			}
		default:
			c.Severity = ""
		}
	}
}

// SeverityCounts counts the failed cases by severity; warnings count as low.
// Waived failures are not counted (Summary.Waived counts them).
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
}

func (s *SeverityCounts) add(sev Severity) {
	switch sev {
	case SeverityCritical:
		s.Critical++
	case SeverityHigh:
		s.High++
	case SeverityMedium:
		s.Medium++
	case SeverityLow:
		s.Low++
	}
}

// Of returns the count of one severity.
func (s SeverityCounts) Of(sev Severity) int {
	switch sev {
	case SeverityCritical:
		return s.Critical
	case SeverityHigh:
		return s.High
	case SeverityMedium:
		return s.Medium
	case SeverityLow:
		return s.Low
	}
	return 0
}

// String reads "1 critical, 0 high, 2 medium, 3 low".
func (s SeverityCounts) String() string {
	return fmt.Sprintf("%d critical, %d high, %d medium, %d low", s.Critical, s.High, s.Medium, s.Low)
}

func (s *SeverityCounts) plus(o SeverityCounts) {
	s.Critical += o.Critical
	s.High += o.High
	s.Medium += o.Medium
	s.Low += o.Low
}
