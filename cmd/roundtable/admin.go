package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roundtable-lms/roundtable/internal/app"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

func warnSecret(cfg config.Config, logger *slog.Logger) {
	switch cfg.SecretSource {
	case "generated":
		logger.Warn("ROUNDTABLE_SECRET is not set: generated one and kept it in the data dir; set ROUNDTABLE_SECRET in production, the same on every replica", slog.String("data_dir", cfg.DataDir))
	case "file":
		if cfg.DatabaseURL != "" {
			logger.Warn("ROUNDTABLE_SECRET is read from the data dir; with Postgres and several replicas, set ROUNDTABLE_SECRET so that all share it")
		}
	}
}

// withStore runs fn on the configured, migrated database.
func withStore(ctx context.Context, cfg config.Config, fn func(db *store.DB) error) error {
	db, err := app.OpenStore(ctx, cfg, cfg.Logger())
	if err != nil {
		return whichDatabase(err, cfg, false)
	}
	defer db.Close()
	return fn(db)
}

func sub(args []string) (string, []string) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", args
	}
	return args[0], args[1:]
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	action, args := sub(args)
	cfg, _, err := loadConfig("migrate "+action, args, getenv, stderr, ":8080", nil)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "up":
		if err := db.Migrate(ctx); err != nil {
			return whichDatabase(err, cfg, false)
		}
		fallthrough
	case "status":
		st, err := db.MigrationStatuses(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tMIGRATION\tSTATE")
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.Name, state)
		}
		return w.Flush()
	}
	return fmt.Errorf("migrate: want up or status, got %q", action)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func platformCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	action, args := sub(args)
	var p tenant.Platform
	var deployments multiFlag
	var id string
	var extra func(fs *flag.FlagSet)
	switch action {
	case "add":
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&p.ID, "id", "", "the registration's id, when the LMS already holds its keyset URL (/lti/platforms/ID/jwks.json): any UUID, such as the one the admin console's LMS setup page shows; chosen for you when empty")
			fs.StringVar(&p.Name, "name", "", "a name admins recognise (required)")
			fs.StringVar(&p.Issuer, "issuer", "", "the platform's issuer URL (required)")
			fs.StringVar(&p.ClientID, "client-id", "", "the client id the LMS gave Roundtable (required)")
			fs.StringVar(&p.AuthURL, "auth-url", "", "the platform's OIDC authorization URL (required)")
			fs.StringVar(&p.TokenURL, "token-url", "", "the platform's OAuth2 token URL")
			fs.StringVar(&p.TokenAudience, "token-audience", "", "an audience client assertions name besides the token URL, for an LMS that wants one (Brightspace's OAuth2 audience)")
			fs.StringVar(&p.JWKSURL, "jwks-url", "", "the platform's public key set URL (required)")
			fs.Var(&deployments, "deployment-id", "a deployment id (repeatable)")
			fs.StringVar(&p.OrgID, "org", "", "the organisation to add it to (an organisation id: see platform list), when it is another registration of an LMS already registered for the same customer, so that its people are the ones already known; a new organisation when empty. Never another customer's, even with the same issuer")
		}
	case "show", "remove":
		extra = func(fs *flag.FlagSet) { fs.StringVar(&id, "id", "", "the platform id (see platform list)") }
	case "list":
	default:
		return fmt.Errorf("platform: want add, list, show or remove, got %q", action)
	}
	cfg, fs, err := loadConfig("platform "+action, args, getenv, stderr, ":8080", extra)
	if err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	return withStore(ctx, cfg, func(db *store.DB) error {
		ks, err := toolkey.New(db, cfg.Secret)
		if err != nil {
			return err
		}
		reg := tenant.NewRegistry(db)
		reg.Keys = ks // each registration gets, and takes away, its own keys
		switch action {
		case "add":
			p.Deployments = deployments
			p.ID = strings.ToLower(strings.TrimSpace(p.ID)) // uuidgen prints capitals on some systems
			if len(p.Deployments) == 0 {
				return errors.New("platform add: at least one --deployment-id is required")
			}
			saved, err := reg.Add(ctx, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Registered %s (id %s) in organisation %s.\n\n", saved.Name, saved.ID, saved.OrgID)
			printToolValues(stdout, cfg, saved.ID)
			return nil
		case "list":
			ps, err := reg.List(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tORGANISATION\tNAME\tISSUER\tCLIENT ID\tSTATUS\tDEPLOYMENTS")
			for _, p := range ps {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.OrgID, p.Name, p.Issuer, p.ClientID, p.Status, strings.Join(p.Deployments, ","))
			}
			return w.Flush()
		case "show":
			p, err := reg.Get(ctx, id)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"ID", p.ID}, {"Organisation", p.OrgID}, {"Name", p.Name}, {"Issuer", p.Issuer}, {"Client ID", p.ClientID},
				{"Auth URL", p.AuthURL}, {"Token URL", p.TokenURL}, {"Token audience", p.TokenAudience},
				{"JWKS URL", p.JWKSURL}, {"Status", p.Status}, {"Deployments", strings.Join(p.Deployments, ", ")},
				{"Last error", lastRefusal(p)},
			} {
				fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
			}
			keys, err := ks.List(ctx, p.ID)
			if err != nil {
				return err
			}
			for _, k := range keys {
				switch {
				case k.Signing && k.Shared:
					fmt.Fprintf(w, "Signing key:\t%s (shared: its LMS may still use /.well-known/jwks.json; give it the keyset URL below, then rotate)\n", k.KID)
				case k.Signing:
					fmt.Fprintf(w, "Signing key:\t%s\n", k.KID)
				}
			}
			w.Flush()
			fmt.Fprintln(stdout)
			printToolValues(stdout, cfg, p.ID)
			return nil
		case "remove":
			if err := reg.Remove(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Removed platform %s. Its organisation's people and discussions stay while another of its registrations reaches them; with its last registration, the organisation went too.\n", id)
			return nil
		}
		return nil
	})
}

// printToolValues tells the LMS admin what to enter in the LMS for the
// registration platformID.
func printToolValues(w io.Writer, cfg config.Config, platformID string) {
	base := "http://localhost" + cfg.Listen
	if cfg.BaseURL != nil {
		base = strings.TrimSuffix(cfg.BaseURL.String(), "/")
	} else if !strings.HasPrefix(cfg.Listen, ":") {
		base = "http://" + cfg.Listen
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Enter these values in the LMS:")
	fmt.Fprintf(tw, "  Login initiation URL:\t%s/lti/login\n", base)
	fmt.Fprintf(tw, "  Redirect / launch URL:\t%s/lti/launch\n", base)
	fmt.Fprintf(tw, "  Target link URI:\t%s/lti/launch\n", base)
	fmt.Fprintf(tw, "  Deep linking URL:\t%s/lti/launch\n", base)
	fmt.Fprintf(tw, "  Public keyset (JWKS) URL:\t%s%s\n", base, kit.JWKSPath(platformID))
	fmt.Fprintf(tw, "  Canvas configuration URL:\t%s/lti/config.json?platform=%s\n", base, url.QueryEscape(platformID))
	tw.Flush()
	fmt.Fprintln(w, "The keyset URL is this registration's own: Roundtable signs what it sends this LMS with keys no other LMS trusts.")
}

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	action, args := sub(args)
	if action != "list" && action != "rotate" && action != "retire" {
		return fmt.Errorf("keys: want list, rotate or retire, got %q", action)
	}
	var platformID string
	cfg, fs, err := loadConfig("keys "+action, args, getenv, stderr, ":8080", func(fs *flag.FlagSet) {
		fs.StringVar(&platformID, "platform", "", "the platform id whose keys to "+action+" (see platform list); each LMS registration has its own keys")
	})
	if err != nil {
		return err
	}
	if platformID == "" && action != "list" {
		return fmt.Errorf("keys %s: name the registration with --platform ID (see roundtable platform list): each LMS registration has keys of its own", action)
	}
	return withStore(ctx, cfg, func(db *store.DB) error {
		ks, err := toolkey.New(db, cfg.Secret)
		if err != nil {
			return err
		}
		if platformID != "" {
			if _, err := tenant.NewRegistry(db).Get(ctx, platformID); err != nil {
				return err
			}
		}
		switch action {
		case "rotate":
			in, err := ks.Rotate(ctx, platformID)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "New signing key %s for platform %s. Its older keys stay published at %s until retired (roundtable keys retire --platform %s KID).\n",
				in.KID, platformID, kit.JWKSPath(platformID), platformID)
			return nil
		case "retire":
			if fs.NArg() != 1 {
				return errors.New("keys retire: give the key id to retire")
			}
			if err := ks.Retire(ctx, platformID, fs.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Key %s of platform %s retired: no longer published.\n", fs.Arg(0), platformID)
			return nil
		}
		var infos []toolkey.Info
		if platformID != "" {
			infos, err = ks.List(ctx, platformID)
		} else {
			infos, err = ks.All(ctx)
		}
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PLATFORM\tKID\tCREATED\tSTATE")
		for _, in := range infos {
			state := "published"
			switch {
			case in.Signing:
				state = "signing"
			case in.RetiredAt != nil:
				state = "retired " + in.RetiredAt.UTC().Format(time.RFC3339)
			}
			if in.Shared && in.RetiredAt == nil {
				state += " (shared)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", in.PlatformID, in.KID, in.CreatedAt.UTC().Format(time.RFC3339), state)
		}
		return w.Flush()
	})
}

// lastRefusal is a platform's latest recorded refusal: its reason, and the
// values its request carried, labelled as the request's.
func lastRefusal(p tenant.Platform) string {
	if p.LastErrorReason == "" && p.LastError == "" {
		return "none"
	}
	s := p.LastErrorReason
	if p.LastError != "" {
		s += " (the request said: " + p.LastError + ")"
	}
	if p.LastErrorAt != nil {
		s += " at " + p.LastErrorAt.UTC().Format(time.RFC3339)
	}
	return s
}
