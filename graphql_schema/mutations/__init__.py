"""Mutations, one module per area; `Mutation` gathers them."""
