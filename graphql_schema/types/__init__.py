"""GraphQL object types, one module per content type."""
