package main

import (
	"flag"
	"time"

	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/server"
)

// sessionOptions are the flags of the dashboard's sign-in sessions.
type sessionOptions struct {
	ttl        time.Duration
	trustProto bool
}

// sessionFlags defines the flags of sessionOptions on fs.
func sessionFlags(fs *flag.FlagSet) *sessionOptions {
	o := &sessionOptions{}
	fs.DurationVar(&o.ttl, "session-ttl", 12*time.Hour, "how long a dashboard sign-in lasts (0: the server's default)")
	fs.BoolVar(&o.trustProto, "trust-forwarded-proto", false,
		"mark the dashboard's session cookie Secure when X-Forwarded-Proto (or Forwarded) says https; set it only behind a proxy that terminates TLS and sets that header on every request")
	return o
}

// config returns the server's session configuration.
func (o *sessionOptions) config() (server.SessionConfig, error) {
	if o.ttl < 0 {
		return server.SessionConfig{}, cli.Usagef("--session-ttl %v: want a positive duration", o.ttl)
	}
	return server.SessionConfig{TTL: o.ttl, TrustForwardedProto: o.trustProto}, nil
}
