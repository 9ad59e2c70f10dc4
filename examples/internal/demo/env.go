package demo

import (
	"fmt"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Env is the configuration every example reads from its environment:
//
//	PERSONA_API_KEY         the organization's API key; unset runs the demo
//	PERSONA_WEBHOOK_SECRET  the webhook's secret (wbhsec_...); during a rotation both,
//	                        separated by a comma
//	PERSONA_BASE_URL        optional; default https://api.withpersona.com/api/v1
//	LISTEN_ADDR             optional; default :8080
type Env struct {
	APIKey         string
	WebhookSecrets []string
	BaseURL        string
	ListenAddr     string

	OnListen func(addr string) // tests: told where the live server listens

	ShutdownGrace time.Duration // how long requests in flight may finish at shutdown; 0 for 10 s
}

// LoadEnv reads the variables Env lists, with their defaults.
func LoadEnv(getenv func(string) string) Env {
	e := Env{
		APIKey:     strings.TrimSpace(getenv("PERSONA_API_KEY")),
		BaseURL:    strings.TrimSpace(getenv("PERSONA_BASE_URL")),
		ListenAddr: strings.TrimSpace(getenv("LISTEN_ADDR")),
	}
	for _, s := range strings.Split(getenv("PERSONA_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			e.WebhookSecrets = append(e.WebhookSecrets, s)
		}
	}
	if e.BaseURL == "" {
		e.BaseURL = connect.DefaultBaseURL
	}
	if e.ListenAddr == "" {
		e.ListenAddr = ":8080"
	}
	return e
}

// Live reports whether to run against Persona rather than the demo.
func (e Env) Live() bool { return e.APIKey != "" }

// Var is an environment variable an example requires in live mode, and its value.
type Var struct{ Name, Value string }

// CheckLive accepts the demo (neither the key nor a secret set) and a live
// configuration in which the key, a secret and every one of required are set. The
// error names the missing variables, never a value.
func (e Env) CheckLive(required ...Var) error {
	if e.APIKey == "" && len(e.WebhookSecrets) == 0 {
		return nil
	}
	vars := append([]Var{{"PERSONA_API_KEY", e.APIKey}, {"PERSONA_WEBHOOK_SECRET", strings.Join(e.WebhookSecrets, ",")}}, required...)
	var missing []string
	for _, v := range vars {
		if v.Value == "" {
			missing = append(missing, v.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("to run against Persona, also set %s (or unset PERSONA_API_KEY and PERSONA_WEBHOOK_SECRET for the demo)", strings.Join(missing, ", "))
	}
	return nil
}

// Connect returns the live client, which names the example in its User-Agent, and
// the webhook verifier. opts come after the base URL.
func (e Env) Connect(example string, opts ...connect.Option) (*connect.Client, *connect.Verifier, error) {
	opts = append([]connect.Option{connect.WithBaseURL(e.BaseURL), connect.WithUserAgent("connect-go-example-" + example)}, opts...)
	client, err := connect.New(e.APIKey, opts...)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := connect.NewVerifier(e.WebhookSecrets)
	if err != nil {
		return nil, nil, err
	}
	return client, verifier, nil
}
