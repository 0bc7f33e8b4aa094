"""The use cases: chat, conversations (and later images, video, compare, workflows)."""
