"""What the care team relies on, stored: the database, the flag log, the consent records and their printable page."""
