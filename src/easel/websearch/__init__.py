"""Live web for chat: search backends, a guarded page fetcher, text extraction, passage ranking, cited context."""
