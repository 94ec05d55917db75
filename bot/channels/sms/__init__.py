"""SMS through Twilio: the webhook channel, sending and the invite, its state in the database, text rules."""
