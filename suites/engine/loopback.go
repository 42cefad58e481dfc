package engine

import (
	"net"
	"net/url"
)

// LoopbackURL says whether a URL's host is this machine's loopback.
func LoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && IsLoopback(u.Hostname())
}

// IsLoopback says whether a host name or address is this machine's loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
