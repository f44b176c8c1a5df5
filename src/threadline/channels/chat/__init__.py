"""Live chat: the widget's frames, its signed identity tokens, and the parser that
turns a visitor's stored message into the one inbound shape (docs/widget.md)."""
