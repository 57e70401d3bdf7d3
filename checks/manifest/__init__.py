"""Cargo manifests: the workspace model, manifest facts, TOML positions."""
