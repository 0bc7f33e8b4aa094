"""easel: a self-hosted studio for generative models.

Nothing happens at import time; `easel.api.app.create_app(settings)` builds the world.
"""

__version__ = "0.1.0"
