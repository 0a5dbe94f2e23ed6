"""Go: implementations of shared rule IDs, and Go-only rules."""
