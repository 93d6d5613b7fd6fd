"""Primitive families. Importing this package registers every primitive."""
