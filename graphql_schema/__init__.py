"""The GraphQL API: Strawberry types, inputs, queries, loaders, context and extensions."""
