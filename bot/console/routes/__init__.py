"""The console's pages, one router per kind: account (sign-in), flags, conversations, records, insight, admin."""
