"""The widget chat bridge: Socket.IO ``/chat`` to Rasa's REST channel (the chat bridge issue)."""
