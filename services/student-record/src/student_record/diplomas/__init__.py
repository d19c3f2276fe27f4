"""The register of upper-secondary diplomas and certificates of programme completion."""
