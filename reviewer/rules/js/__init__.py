"""JavaScript and TypeScript: implementations of shared rule IDs, and JS-only rules."""
