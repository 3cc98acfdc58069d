"""WSGI entry point: `gunicorn wsgi:app` in production, `flask --app wsgi run` in development."""

import gc

from app import create_app

app = create_app()

# The app and every module it loaded live as long as the process: frozen, the garbage
# collector stops walking them on each full collection (the case page makes enough garbage to
# trigger one every few requests).
gc.freeze()

#: Celery's entry point: `celery -A wsgi:celery_app worker` and `celery -A wsgi:celery_app beat`.
celery_app = app.extensions["celery"]
