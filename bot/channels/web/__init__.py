"""The website chat: the socket.io channel (channel.py) and its security rules (session.py)."""
