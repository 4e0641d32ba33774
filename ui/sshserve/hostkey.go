package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	gossh "golang.org/x/crypto/ssh"
)

// WriteHostKey creates a new ed25519 host key at path, readable by its owner
// only, and returns its fingerprint. It never overwrites: replacing a host
// key makes every agent's client warn of a man in the middle.
func WriteHostKey(path string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := gossh.MarshalPrivateKey(priv, "paydesk host key")
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s already exists: paydesk hostkey never replaces a host key", path)
	}
	if err != nil {
		return "", err
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", err
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	return gossh.FingerprintSHA256(sshPub), nil
}

// LoadHostKey reads the host key for serve. It refuses a missing key (and
// says how to make one) and a key others can read; it never creates one, so
// a typo in --host-key cannot quietly give the server a new identity.
func LoadHostKey(path string) (pemBytes []byte, fingerprint string, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("host key %s does not exist: create one with `paydesk hostkey %s`", path, path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("host key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("host key %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, "", fmt.Errorf("host key %s is readable by others (mode %04o): run chmod 600 %s, or create a new one with `paydesk hostkey PATH`", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, "", fmt.Errorf("host key %s: not an unencrypted OpenSSH private key", path)
	}
	return b, gossh.FingerprintSHA256(signer.PublicKey()), nil
}
