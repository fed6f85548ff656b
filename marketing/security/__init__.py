"""Passwords, permissions and encryption of stored secrets."""
