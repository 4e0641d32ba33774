package providers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"paydesk/api"
	"paydesk/api/sandbox"
)

// namedCredentials refuses a PAYDESK_CREDENTIALS that names a file paydesk
// cannot read. Without this a typo in the path meant no credentials, hence
// no provider, hence the embedded sandbox: an agent would believe they were
// looking at production. (The default path may be absent; a named one not.)
func namedCredentials(getenv func(string) string) error {
	p := getenv(api.EnvCredentials)
	if p == "" {
		return nil
	}
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s names %s, which does not exist: fix the path or unset %s (paydesk will not fall back to the sandbox)", api.EnvCredentials, p, api.EnvCredentials)
	case err != nil:
		return fmt.Errorf("%s names %s, which cannot be read: %v", api.EnvCredentials, p, err)
	case st.IsDir():
		return fmt.Errorf("%s names %s, which is a directory, not a credentials file", api.EnvCredentials, p)
	}
	return nil
}

// Configure builds a client for every provider whose base URL is set, in
// the environment or the PAYDESK_CREDENTIALS file (All lists them); with
// none set it starts the embedded sandbox and builds the same clients from
// the sandbox's own settings. A non-nil sandbox is the caller's to close.
func Configure() ([]api.Provider, *sandbox.Sandbox, error) {
	if err := namedCredentials(os.Getenv); err != nil {
		return nil, nil, err
	}
	file, err := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	if err != nil {
		return nil, nil, err
	}
	clients, err := FromEnv(api.Getenv(file))
	if err != nil {
		return nil, nil, err
	}
	if len(clients) > 0 {
		return clients, nil, nil
	}
	sb, err := sandbox.Start(sandbox.Config{Seed: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded sandbox: %w", err)
	}
	clients, err = FromEnv(sb.Getenv)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	return clients, sb, nil
}
