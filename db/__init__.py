"""The data layer: models, engine, sessions, repositories, migrations. No HTTP or GraphQL."""
