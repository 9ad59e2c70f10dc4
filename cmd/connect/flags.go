package main

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
	"time"
)

// globalFlags are accepted by every command, before or after the command's name.
type globalFlags struct {
	json       bool
	baseURL    string
	apiKeyFile string
	debug      bool
}

// isGlobalFlag lets usage print the global flags apart from a command's own.
func isGlobalFlag(name string) bool {
	switch name {
	case "json", "base-url", "api-key-file", "debug":
		return true
	}
	return false
}

// register defines the global flags on fs, bound to g. Like every flag definition it
// sets the fields to their defaults, so callers restore values parsed earlier.
func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&g.json, "json", false, "print JSON: one object per resource, an array for lists")
	fs.StringVar(&g.baseURL, "base-url", "", "API root `URL` (default $PERSONA_BASE_URL, else Persona's)")
	// The key itself is never a flag: a flag's value shows in the process list.
	fs.StringVar(&g.apiKeyFile, "api-key-file", "", "read the API key from `FILE` (default $PERSONA_API_KEY)")
	fs.BoolVar(&g.debug, "debug", false, "log each request on stderr (method, path, status, request id; never the key)")
}

// parseInterleaved parses args with fs, accepting flags before, between and after the
// positional arguments (the flag package alone stops at the first positional one), so
// that "redeem ID --destination inq_.." and "redeem --destination inq_.. ID" mean the
// same. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// stringList is a flag that may be repeated; each use appends one value.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// durationFlag defines a duration flag that takes days too ("14d", "1d12h"), as a
// token's time to live or a window of events is counted in days; Go's own units go as
// ever ("90m", "336h").
func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := &days{d: value}
	fs.Var(d, name, usage)
	return &d.d
}

// days is durationFlag's value.
type days struct{ d time.Duration }

func (v *days) String() string { return v.d.String() }

func (v *days) Set(s string) error {
	head, tail, hasDays := strings.Cut(s, "d")
	var d time.Duration
	if hasDays {
		n, err := strconv.ParseUint(head, 10, 16)
		if err != nil {
			return errNotADuration
		}
		d = time.Duration(n) * 24 * time.Hour
		s = tail
	}
	if s != "" || !hasDays {
		rest, err := time.ParseDuration(s)
		// Days and the rest are each within a Duration; their sum may not be, and
		// would wrap to a negative one.
		if err != nil || rest < 0 || rest > math.MaxInt64-d {
			return errNotADuration
		}
		d += rest
	}
	v.d = d
	return nil
}

// errNotADuration is what the flag package prints after `invalid value "x" for flag`.
var errNotADuration = errors.New("want a duration such as 14d, 36h or 90m")
