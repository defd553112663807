// Command diffuir converts DiffUIR checkpoints into weight packs, inspects
// packs and restores photos on this machine.
//
//	diffuir convert IN -o OUT [--dtype f16|f32]
//	diffuir info PACK
//	diffuir restore IN -o OUT [--model PACK|CHECKPOINT] [--steps N] [--seed N]
//	        [--noise-scale X] [--equalize auto|on|off] [--tile N] [--overlap N]
//	        [--bit-depth 8|16] [--backend auto|cpu|gpu]
//	diffuir serve [--addr 127.0.0.1:8080] [--dir dist/site]
//	diffuir eval --photos DIR [--tasks haze,lowlight,rain,snow,blur] [--model PACK] [--steps N] [--json]
//
// Exit status is 0 on success; otherwise one line naming the problem is
// printed to standard error and the status is 1 (2 for usage errors).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// usageError marks errors in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var commands = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}{
	{"convert", "pack a PyTorch or safetensors checkpoint into a weight pack", runConvert},
	{"info", "print a pack's configuration, tensor table and hash", runInfo},
	{"restore", "restore a photo", runRestore},
	{"eval", "score restorations of synthetically degraded photos (PSNR/SSIM)", runEval},
	{"serve", "serve the built web app on this machine", runServe},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			}
			fmt.Fprintf(stderr, "diffuir %s: %v\n", c.name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "diffuir: unknown command %q (try: diffuir help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: diffuir <command> [arguments]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'diffuir <command> -h' for a command's options.")
}

// newFlags makes a flag set that reports errors instead of exiting, and
// parses flags placed before or after the positional arguments.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("diffuir "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse accepts flags anywhere on the line ("restore in.png -o out.png").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
