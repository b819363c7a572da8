package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func runWithStdin(t *testing.T, getenv func(string) string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestAdminCommands(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			getenv := env(t, kind)
			out, err := runWithStdin(t, getenv, "a long enough password\n", "admin", "create", "--email", "Ada@Example.edu",
				"--base-url", "https://roundtable.example.org")
			if err != nil {
				t.Fatalf("admin create: %v\n%s", err, out)
			}
			if !strings.Contains(out, "ada@example.edu") || !strings.Contains(out, "https://roundtable.example.org/admin") {
				t.Errorf("admin create says:\n%s", out)
			}
			if _, err := runWithStdin(t, getenv, "another long password\n", "admin", "create", "--email", "ada@example.edu"); err == nil ||
				!strings.Contains(err.Error(), "already exists") {
				t.Errorf("a second account with the same email: %v", err)
			}
			for _, tc := range []struct {
				name, stdin string
				args        []string
				want        string
			}{
				{"short password", "too short\n", []string{"--email", "bob@example.edu"}, "at least 12"},
				{"no password", "", []string{"--email", "bob@example.edu"}, "no password"},
				{"no email", "a long enough password\n", nil, "--email is required"},
				{"bad email", "a long enough password\n", []string{"--email", "bob"}, "not an email"},
			} {
				_, err := runWithStdin(t, getenv, tc.stdin, append([]string{"admin", "create"}, tc.args...)...)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
				}
			}
			if out, err := runWithStdin(t, getenv, "a new long password\r\n", "admin", "password", "--email", "ada@example.edu"); err != nil {
				t.Fatalf("admin password: %v\n%s", err, out)
			}
			if _, err := runWithStdin(t, getenv, "a new long password\n", "admin", "password", "--email", "nobody@example.edu"); err == nil {
				t.Error("a new password for an unknown account")
			}
			out, err = runWithStdin(t, getenv, "", "admin", "list")
			if err != nil || !strings.Contains(out, "ada@example.edu") || strings.Contains(out, "bob@") || !strings.Contains(out, "never") {
				t.Errorf("admin list: %v\n%s", err, out)
			}
			if _, err := runWithStdin(t, getenv, "", "admin", "delete"); err == nil {
				t.Error("an unknown admin action was accepted")
			}
		})
	}
}
