"""Pure rules of the identity domain: citizen-ID format, consent, staff spreadsheet columns. No I/O."""
