package tenant

import (
	"slices"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Deleting an organisation deletes by hand the rows of orgTables; every
// other table keyed by organisation must go with it some other way. A table
// added with an org_id column and left out of both would keep a deleted
// customer's data.
func TestEveryTableOfAnOrganisationGoesWithIt(t *testing.T) {
	// Deleted explicitly by DeleteOrganisation, or by a trigger on posts.
	removedOtherwise := []string{"platforms", "post_search_ids"}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var tables []struct {
			Name    string
			Cascade bool
		}
		query := `SELECT m.name AS name, MAX(COALESCE(f.on_delete, '') = 'CASCADE') AS cascade
			FROM sqlite_master m JOIN pragma_table_info(m.name) c ON c.name = 'org_id'
			LEFT JOIN pragma_foreign_key_list(m.name) f ON 1 = 1
			WHERE m.type = 'table' GROUP BY m.name`
		if db.Dialect == store.Postgres {
			query = `SELECT c.table_name AS name, COALESCE(BOOL_OR(rc.delete_rule = 'CASCADE'), false) AS cascade
				FROM information_schema.columns c
				JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
					AND tb.table_type = 'BASE TABLE'
				LEFT JOIN information_schema.table_constraints tc ON tc.table_schema = c.table_schema
					AND tc.table_name = c.table_name AND tc.constraint_type = 'FOREIGN KEY'
				LEFT JOIN information_schema.referential_constraints rc ON rc.constraint_schema = tc.constraint_schema
					AND rc.constraint_name = tc.constraint_name
				WHERE c.column_name = 'org_id' AND c.table_schema = current_schema()
				GROUP BY c.table_name`
		}
		if err := db.Raw(query).Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		if len(tables) < len(orgTables) {
			t.Fatalf("found %d tables keyed by organisation, fewer than the %d deleted by hand: %+v", len(tables), len(orgTables), tables)
		}
		for _, tb := range tables {
			if !tb.Cascade && !slices.Contains(orgTables, tb.Name) && !slices.Contains(removedOtherwise, tb.Name) {
				t.Errorf("table %s has an org_id but neither a foreign key that deletes its rows with their owner nor a place in orgTables", tb.Name)
			}
		}
	})
}
