package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/smartconform/smartconform/suites/engine"
)

type listedRef struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

type listedCase struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Requirement string      `json:"requirement"`
	Level       string      `json:"level"`
	Area        string      `json:"area"`
	Method      string      `json:"method,omitempty"`
	Polarity    string      `json:"polarity"`
	Labels      []string    `json:"labels"`
	Refs        []listedRef `json:"refs"`
	Policy      string      `json:"policy,omitempty"`
	// Profiles gives the level under each --profile where it differs.
	Profiles map[string]string `json:"profiles,omitempty"`
}

func newListCmd(stdout, stderr io.Writer) *cobra.Command {
	var asJSON, asMarkdown bool
	var labels, profile string
	var focus []string
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "List the case catalogue",
		Long:  "List the cases (ID, level, title, spec references), all or those a label filter and focus select, as a table, JSON or the README's Markdown.",
		Example: `  smartconform list
  smartconform list --label-filter 'area:discovery || negative'
  smartconform list --json --focus '^ASYM-'
  smartconform list --profile oauth --label-filter level:must   # levels as the oauth profile judges them`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return code(cmdList(asJSON, asMarkdown, labels, profile, focus, stdout, stderr))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalogue as JSON")
	cmd.Flags().BoolVar(&asMarkdown, "markdown", false, "print the catalogue as the Markdown table the README carries")
	cmd.Flags().StringVar(&labels, "label-filter", "", "list only the cases this label filter selects")
	cmd.Flags().StringArrayVar(&focus, "focus", nil, "list only cases whose ID or title matches (repeatable)")
	cmd.Flags().StringVar(&profile, "profile", "", "show levels and level: labels as this profile judges them (smart-v2, smart-v1, oauth); default: the declared levels")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeValues(engine.ProfileSMARTv2, engine.ProfileSMARTv1, engine.ProfileOAuth))
	return withEnvHelp(cmd)
}

func cmdList(asJSONFlag, asMarkdownFlag bool, labels, profile string, focus []string, stdout, stderr io.Writer) int {
	asJSON, asMarkdown := &asJSONFlag, &asMarkdownFlag
	switch profile {
	case "", engine.ProfileSMARTv2, engine.ProfileSMARTv1, engine.ProfileOAuth:
	default:
		fmt.Fprintf(stderr, "smartconform list: --profile must be smart-v2, smart-v1 or oauth (got %q)\nsee 'smartconform help list'\n", profile)
		return exitUsage
	}
	cat, err := engine.Select(engine.Options{LabelFilter: labels, Focus: focus, Profile: profile})
	if err != nil {
		fmt.Fprintf(stderr, "smartconform list: %s\nsee 'smartconform help list'\n", oneLine(stripANSI(err.Error())))
		return exitUsage
	}
	var out []listedCase
	for _, m := range cat {
		c := listedCase{ID: m.ID, Title: m.Title, Requirement: m.Requirement, Level: string(m.Level), Area: m.Area(),
			Method: m.Method, Polarity: "positive", Labels: m.Labels(), Policy: m.Policy}
		if m.Negative {
			c.Polarity = "negative"
		}
		for _, r := range m.Refs {
			c.Refs = append(c.Refs, listedRef{r.Label, r.URL})
		}
		for p, l := range m.Profiles {
			if c.Profiles == nil {
				c.Profiles = map[string]string{}
			}
			c.Profiles[p] = string(l)
		}
		out = append(out, c)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitIncomplete
		}
		return exitOK
	}
	if *asMarkdown {
		writeMarkdown(stdout, out)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tTITLE\tSPEC REFERENCE")
	for _, c := range out {
		var refs []string
		for _, r := range c.Refs {
			refs = append(refs, r.Label)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Level, c.Title, strings.Join(refs, "; "))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d cases\n", len(out))
	return exitOK
}

// writeMarkdown prints the case table of the README (generated, so that it
// cannot drift from the catalogue: a test compares the two).
func writeMarkdown(w io.Writer, cases []listedCase) {
	fmt.Fprintln(w, "| ID | Level | Area | What it proves | Spec |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	for _, c := range cases {
		var refs []string
		for _, r := range c.Refs {
			refs = append(refs, fmt.Sprintf("[%s](%s)", esc(r.Label), r.URL))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", c.ID, c.Level, c.Area, esc(c.Requirement), strings.Join(refs, "<br>"))
	}
	fmt.Fprintf(w, "\n%d cases.\n", len(cases))

	fmt.Fprintln(w, "\nLevels that depend on `--profile` (where the specs disagree; every other case has the same level under every profile):")
	fmt.Fprintln(w, "\n| ID | smart-v2 (default) | smart-v1 | oauth | Reading taken |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, c := range cases {
		if len(c.Profiles) == 0 {
			continue
		}
		level := func(p string) string {
			if l, ok := c.Profiles[p]; ok {
				if l == string(engine.NotApplicable) {
					return "not applicable"
				}
				return l
			}
			return c.Level
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", c.ID, level(engine.ProfileSMARTv2), level(engine.ProfileSMARTv1), level(engine.ProfileOAuth), esc(c.Policy))
	}
}
