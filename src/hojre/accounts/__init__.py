"""Accounts: users and roles, access tokens, activation codes, passwords."""
