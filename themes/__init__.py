"""The bundled themes (TOML files), loaded through importlib.resources."""
