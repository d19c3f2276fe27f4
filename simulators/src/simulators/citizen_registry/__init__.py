"""Stand-in for the national population database's citizen verification API (development and tests only)."""
