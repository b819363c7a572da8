package toolkey

// Seal seals a PKCS #8 private key as Roundtable has always stored keys,
// for tests that write the rows an older Roundtable left.
func (s *Store) Seal(der []byte) string { return s.seal(der) }
