"""Readers of other formats: each parses its source into the data a YAML spec gives, then builds it."""
