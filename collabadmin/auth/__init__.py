"""Who is acting: users, passwords, sessions, tokens, throttled sign-in, the auth middleware."""
