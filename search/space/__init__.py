"""The search-space language: a space file with its command-line overrides (space_file) -> a typed SearchSpec
(spec), its parameters and conditional sampling (params), the typed-config loader with key paths in every error
(typed_config), and the resolution of a Tune trial's sampled values into a full trial config (resolve). Imports
no Ray."""
