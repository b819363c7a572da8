package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// adminCmd manages the admin console's accounts:
//
//	roundtable admin create --email E     (password typed, or piped: echo pw | roundtable admin create --email E)
//	roundtable admin password --email E   (set a new password, unlock, end its sessions)
//	roundtable admin list
func adminCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	action, args := sub(args)
	var email string
	var extra func(fs *flag.FlagSet)
	switch action {
	case "create", "password":
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&email, "email", "", "the administrator's email address (required)")
		}
	case "list":
	default:
		return fmt.Errorf("admin: want create, password or list, got %q", action)
	}
	cfg, _, err := loadConfig("admin "+action, args, getenv, stderr, ":8080", extra)
	if err != nil {
		return err
	}
	if action != "list" {
		email = admin.NormalizeEmail(email)
		if email == "" {
			return fmt.Errorf("admin %s: --email is required", action)
		}
		if err := admin.ValidateEmail(email); err != nil {
			return err
		}
	}
	var password string
	if action != "list" {
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
		if err := admin.ValidatePassword(password); err != nil {
			return err
		}
	}
	return withStore(ctx, cfg, func(db *store.DB) error {
		admins := admin.NewStore(db)
		switch action {
		case "create":
			u, err := admins.Create(ctx, email, password)
			if err != nil {
				return err
			}
			base := "http://localhost" + cfg.Listen
			if cfg.BaseURL != nil {
				base = strings.TrimSuffix(cfg.BaseURL.String(), "/")
			} else if !strings.HasPrefix(cfg.Listen, ":") {
				base = "http://" + cfg.Listen
			}
			fmt.Fprintf(stdout, "Created administrator %s. Sign in at %s/admin\n", u.Email, base)
		case "password":
			if err := admins.SetPassword(ctx, email, password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "New password set for %s; the account is unlocked and its sessions ended.\n", email)
		case "list":
			users, err := admins.List(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "EMAIL\tCREATED\tLAST SIGN-IN")
			for _, u := range users {
				last := "never"
				if u.LastLoginAt != nil {
					last = u.LastLoginAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", u.Email, u.CreatedAt.UTC().Format(time.RFC3339), last)
			}
			return w.Flush()
		}
		return nil
	})
}

// readPassword asks for the password twice without echo when stdin is a
// terminal, and otherwise reads its first line.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password (at least 12 characters): ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Same password again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(pw) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(pw), nil
	}
	if stdin == nil {
		return "", errors.New("no password: pipe it on stdin, e.g. echo \"$PASSWORD\" | roundtable admin create --email E")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin: pipe it, e.g. echo \"$PASSWORD\" | roundtable admin create --email E")
	}
	return line, nil
}
