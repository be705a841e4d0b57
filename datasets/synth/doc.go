// Package synth generates seeded synthetic CRM exports with a known ground
// truth: the default account table of the engine's demos and goldens.
package synth
