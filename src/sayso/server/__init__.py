"""Sayso over the wire: the web page, the realtime WebSocket, OpenAI-compatible and Wyoming servers."""
