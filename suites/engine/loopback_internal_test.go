package engine

import "testing"

func TestLoopbackURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://127.0.0.1:8443/token":   true,
		"http://localhost/token":         true,
		"https://[::1]:9/token":          true,
		"https://127.3.4.5/token":        true,
		"https://auth.example.org/token": false,
		"https://10.0.0.5/token":         false,
		"::not a url":                    false,
	} {
		if got := LoopbackURL(u); got != want {
			t.Errorf("LoopbackURL(%q) = %v, want %v", u, got, want)
		}
	}
}
