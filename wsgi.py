"""WSGI entry point: `gunicorn wsgi:app` in production, `flask --app wsgi run` in development."""

from app import create_app

app = create_app()

#: Celery's entry point: `celery -A wsgi:celery_app worker` and `celery -A wsgi:celery_app beat`.
celery_app = app.extensions["celery"]
