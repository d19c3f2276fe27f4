"""Outbound integrations: Keycloak administration, the national population database."""
