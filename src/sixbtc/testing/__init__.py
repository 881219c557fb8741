"""Test support code shipped with the package (throwaway PostgreSQL cluster)."""
