"""Notification channels: Telegram (Bot API) and a generic webhook, both over httpx."""
