"""Stand-ins for external national systems, for development and tests only. See ``simulators/README.md``."""
