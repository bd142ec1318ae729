"""Everything that touches a PostgreSQL server: URLs, the embedded server, scratch databases."""
