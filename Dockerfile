# One image for web, worker and beat.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aptic aptic
COPY services services
COPY places places
COPY cheques cheques
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput
ENV DEBUG=0
EXPOSE 8000
CMD ["gunicorn", "aptic.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
