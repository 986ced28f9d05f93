"""People and access (contract section 12): API tokens kept only as hashes, several per person,
named and expiring."""
