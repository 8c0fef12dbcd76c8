# Production image: one image for web (gunicorn + WhiteNoise), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false \
    LOG_FORMAT=json

WORKDIR /app
RUN useradd --create-home --uid 10001 thetavue
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are collected at build time with hashed names (CDN-ready).
RUN SECRET_KEY=build-only-not-a-secret-value-0123456789 DEBUG=false \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    FIELD_ENCRYPTION_KEYS=Ym9ndXMtYnVpbGQta2V5LW5vdC11c2VkLWF0LXJ1bnRpbWU9 \
    python manage.py collectstatic --noinput
USER thetavue
EXPOSE 8000
CMD ["gunicorn", "thetavue_site.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
