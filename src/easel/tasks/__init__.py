"""Request/Result types per task: one vocabulary shared by the API, the database, the CLI and the UI."""
