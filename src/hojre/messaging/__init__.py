"""Conversations: chats with sellers, messages to stores, offers, broadcasts."""
