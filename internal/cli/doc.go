// Package cli holds what every command of this module shares on its
// command line: the help (a paragraph, the usage, an example and every
// flag described), --version from the binary's build information, flags
// from the environment, and the exit statuses: 0 when done (and for
// --help and --version), 1 when the run failed, 2 for a bad command line.
//
// A main stays thin:
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
//		stop()
//		os.Exit(cli.Exit("train", err, os.Stderr))
//	}
//
// and run parses its flags with Command.Parse, returning a UsageError
// (Usagef) for a bad command line. Exit prefixes the message with the
// command's name once; errors from library packages never name the
// command themselves.
//
// The package reads no environment variable itself: a main passes
// os.LookupEnv to Env.
package cli
