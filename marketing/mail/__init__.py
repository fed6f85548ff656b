"""Outgoing email: SMTP per the deployment settings or, in development without SMTP_HOST, an outbox in the
instance folder; a send log that makes each email go out at most once; links built on PUBLIC_URL."""
