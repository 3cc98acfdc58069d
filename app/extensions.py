"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
#: Rate limits (sign-in codes, lookups); storage from RATELIMIT_STORAGE_URI (Redis in production).
limiter = Limiter(key_func=get_remote_address)
migrate = Migrate()
