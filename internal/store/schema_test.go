package store_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// schema is what the parity test compares: per table, its columns (name
// and type family) and its indexes (columns in order and uniqueness).
type schema map[string]*table

type table struct {
	columns map[string]string // name → type family
	indexes map[string]index  // name → definition; unnamed constraint indexes under a key made of their columns
}

type index struct {
	columns []string
	unique  bool
	partial bool
}

func (i index) String() string {
	s := "(" + strings.Join(i.columns, ", ") + ")"
	if i.unique {
		s = "UNIQUE " + s
	}
	if i.partial {
		s += " WHERE ..."
	}
	return s
}

// typeFamily folds each dialect's column types into the families the
// store's code relies on.
func typeFamily(dialect store.Dialect, declared string) string {
	t := strings.ToLower(strings.TrimSpace(declared))
	switch {
	case t == "boolean" || t == "bool":
		return "boolean"
	case strings.Contains(t, "timestamp") || t == "datetime" || t == "date":
		return "timestamp"
	case strings.Contains(t, "int") || t == "bigserial" || t == "serial":
		return "integer"
	case t == "text" || strings.HasPrefix(t, "character varying") || strings.HasPrefix(t, "varchar") || t == "uuid":
		return "text"
	case (t == "jsonb" || t == "json") && dialect == store.Postgres:
		// SQLite has no JSON type: a document is TEXT its json functions
		// read, so a Postgres jsonb column matches a SQLite text one.
		return "text"
	case t == "bytea" || t == "blob":
		return "blob"
	case t == "jsonb" || t == "json":
		return "json"
	case t == "real" || t == "double precision" || strings.HasPrefix(t, "numeric") || t == "float":
		return "real"
	case t == "tsvector":
		return "tsvector"
	}
	return string(dialect) + ":" + t
}

// readSchema reads the tables, columns and indexes of Roundtable's own
// schema; goose's and the job queue's tables are their libraries' business.
func readSchema(t *testing.T, db *store.DB) schema {
	t.Helper()
	ctx := context.Background()
	s := schema{}
	ours := func(name string) bool {
		return name != "goose_db_version" && !strings.HasPrefix(name, "river_")
	}
	if db.Dialect == store.SQLite {
		var names []string
		var virtual []string
		rows, err := db.SQL.QueryContext(ctx, `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, sql string
			if err := rows.Scan(&name, &sql); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(strings.ToUpper(sql), "CREATE VIRTUAL TABLE") {
				virtual = append(virtual, name)
				continue
			}
			names = append(names, name)
		}
		rows.Close()
		for _, name := range names {
			shadow := slices.ContainsFunc(virtual, func(v string) bool { return strings.HasPrefix(name, v+"_") })
			if !ours(name) || shadow {
				continue
			}
			tb := &table{columns: map[string]string{}, indexes: map[string]index{}}
			s[name] = tb
			var pk []string
			cols, err := db.SQL.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY pk, cid`, name)
			if err != nil {
				t.Fatal(err)
			}
			for cols.Next() {
				var col, typ string
				var pkPos int
				if err := cols.Scan(&col, &typ, &pkPos); err != nil {
					t.Fatal(err)
				}
				tb.columns[col] = typeFamily(store.SQLite, typ)
				if pkPos > 0 {
					pk = append(pk, col)
				}
			}
			cols.Close()
			if len(pk) > 0 {
				tb.indexes["primary key"] = index{columns: pk, unique: true}
			}
			type idx struct {
				name, origin    string
				unique, partial bool
			}
			var idxs []idx
			list, err := db.SQL.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, name)
			if err != nil {
				t.Fatal(err)
			}
			for list.Next() {
				var i idx
				if err := list.Scan(&i.name, &i.unique, &i.origin, &i.partial); err != nil {
					t.Fatal(err)
				}
				idxs = append(idxs, i)
			}
			list.Close()
			for _, i := range idxs {
				if i.origin == "pk" {
					continue
				}
				var cols []string
				info, err := db.SQL.QueryContext(ctx, `SELECT COALESCE(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, i.name)
				if err != nil {
					t.Fatal(err)
				}
				for info.Next() {
					var c string
					if err := info.Scan(&c); err != nil {
						t.Fatal(err)
					}
					cols = append(cols, c)
				}
				info.Close()
				key := i.name
				if i.origin == "u" {
					key = "unique (" + strings.Join(cols, ", ") + ")"
				}
				tb.indexes[key] = index{columns: cols, unique: i.unique, partial: i.partial}
			}
		}
		return s
	}
	rows, err := db.SQL.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tname, col, typ string
		if err := rows.Scan(&tname, &col, &typ); err != nil {
			t.Fatal(err)
		}
		if !ours(tname) {
			continue
		}
		tb := s[tname]
		if tb == nil {
			tb = &table{columns: map[string]string{}, indexes: map[string]index{}}
			s[tname] = tb
		}
		tb.columns[col] = typeFamily(store.Postgres, typ)
	}
	rows.Close()
	// Views appear in information_schema.columns too.
	views, err := db.SQL.QueryContext(ctx, `SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	for views.Next() {
		var v string
		views.Scan(&v)
		delete(s, v)
	}
	views.Close()
	idx, err := db.SQL.QueryContext(ctx, `SELECT t.relname, i.relname, ix.indisunique, ix.indpred IS NOT NULL,
			COALESCE((SELECT c.contype::text FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.conrelid = t.oid LIMIT 1), ''),
			array_to_string(ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnkeyatts) k ORDER BY k), chr(31))
		FROM pg_index ix
		JOIN pg_class i ON i.oid = ix.indexrelid
		JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for idx.Next() {
		var tname, iname, contype, colText string
		var unique, partial bool
		if err := idx.Scan(&tname, &iname, &unique, &partial, &contype, &colText); err != nil {
			t.Fatal(err)
		}
		tb := s[tname]
		if tb == nil || !ours(tname) {
			continue
		}
		var cols []string
		for _, c := range strings.Split(colText, "\x1f") {
			if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(c) {
				c = "(expression)"
			}
			cols = append(cols, c)
		}
		key := iname
		switch contype {
		case "p":
			key = "primary key"
		case "u":
			key = "unique (" + strings.Join(cols, ", ") + ")"
		}
		tb.indexes[key] = index{columns: cols, unique: unique, partial: partial}
	}
	return s
}

// diff lists what one schema has and the other lacks or holds otherwise.
func diff(a, b schema) []string {
	var out []string
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		ta, tb := a[n], b[n]
		switch {
		case ta == nil:
			out = append(out, fmt.Sprintf("table %s: only on postgres", n))
			continue
		case tb == nil:
			out = append(out, fmt.Sprintf("table %s: only on sqlite", n))
			continue
		}
		for _, c := range union(ta.columns, tb.columns) {
			ca, oka := ta.columns[c]
			cb, okb := tb.columns[c]
			switch {
			case !oka:
				out = append(out, fmt.Sprintf("column %s.%s: only on postgres", n, c))
			case !okb:
				out = append(out, fmt.Sprintf("column %s.%s: only on sqlite", n, c))
			case ca != cb:
				out = append(out, fmt.Sprintf("column %s.%s: %s on sqlite, %s on postgres", n, c, ca, cb))
			}
		}
		for _, i := range union(ta.indexes, tb.indexes) {
			ia, oka := ta.indexes[i]
			ib, okb := tb.indexes[i]
			switch {
			case !oka:
				out = append(out, fmt.Sprintf("index %s %s: only on postgres %s", n, i, ib))
			case !okb:
				out = append(out, fmt.Sprintf("index %s %s: only on sqlite %s", n, i, ia))
			case ia.String() != ib.String():
				out = append(out, fmt.Sprintf("index %s %s: %s on sqlite, %s on postgres", n, i, ia, ib))
			}
		}
	}
	return out
}

func union[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Each dialect searches posts its own way: SQLite through an FTS5 index
// whose documents are numbered by post_search_ids, Postgres through a
// tsvector column of posts and a GIN index of it with the space's word
// (docs/discussion.md). Nothing else may differ.
var dialectSearch = map[string]bool{
	"table post_search_ids: only on sqlite":                           true,
	"column posts.search: only on postgres":                           true,
	"index posts posts_space_search: only on postgres ((expression))": true,
}

// After every migration, SQLite and Postgres hold the same tables, the
// same columns of the same type family, and the same indexes (name,
// columns, uniqueness, partial or not), so code that runs on one runs on
// the other and a plan measured on one has its index on the other.
func TestSchemasMatchAcrossDialects(t *testing.T) {
	liteDB := storetest.Open(t, store.SQLite)
	lite := readSchema(t, liteDB)
	pg := readSchema(t, storetest.Open(t, store.Postgres))
	if len(lite) < 20 || len(lite["posts"].columns) < 5 || len(pg["posts"].indexes) < 3 {
		t.Fatalf("the schema was not read: %d tables", len(lite))
	}
	for _, d := range diff(lite, pg) {
		if !dialectSearch[d] {
			t.Error(d)
		}
	}

	// The comparison sees a difference when there is one.
	ctx := context.Background()
	for _, q := range []string{
		`ALTER TABLE platforms ADD COLUMN probe TEXT`,
		`CREATE INDEX platforms_probe ON platforms (probe)`,
		`DROP INDEX threads_duplicate_of`,
		`CREATE INDEX threads_duplicate_of ON threads (org_id, duplicate_of)`,
	} {
		if _, err := liteDB.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for _, d := range diff(readSchema(t, liteDB), pg) {
		if !dialectSearch[d] {
			seen = append(seen, d)
		}
	}
	want := []string{
		"column platforms.probe: only on sqlite",
		"index platforms platforms_probe: only on sqlite (probe)",
		"index threads threads_duplicate_of: (org_id, duplicate_of) on sqlite, (org_id, duplicate_of) WHERE ... on postgres",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("differences made on purpose were reported as\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
