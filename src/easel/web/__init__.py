"""The studio UI: static files (HTML, CSS, ES modules) served by the API process; no build step, no CDN."""
