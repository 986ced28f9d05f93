"""The loan book import: column specs per kind, parsing and validation, and the set-based upsert."""
