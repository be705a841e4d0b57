// Package registry manages the versions of the model a fleet of serve
// replicas scores with.
//
// The versions live in the store (package store): each is an immutable
// artifact whose checksum is its identity; the champion alias names the
// version in service and the shadow alias an optional challenger; every
// change and every replica's load is appended to a history that is never
// edited. Registry is the operators' side: register, promote, roll back,
// set or clear the shadow, each validated before it is recorded. Live is
// the replica's side: the champion (and shadow) in memory, swapped
// atomically so that a request is scored wholly by the old model or wholly
// by the new one. Follower keeps a Live in step with the store's aliases:
// it polls them, and loads, validates and warms up a new version before
// swapping it in; a version that fails to load leaves the old one serving,
// and the failure is logged and recorded in the history.
//
// The package sits between profile (what a model is) and store (where the
// versions are kept), and reaches the store through the small Store
// interface it declares, so that the server and the command-line tool
// share one implementation of every operation.
package registry
