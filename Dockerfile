# The hub image: one image for every hub role of docker-compose.yml, chosen by the command
# (`worker`, `ingest --port 8080`, `topics apply`). `docker compose up --scale worker=N` runs N
# workers sharing the partitions.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_STATE_DIR=/var/lib/aftersales-hub
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub hub
COPY streams streams
COPY connectors connectors
COPY schemas schemas
COPY translations translations
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/aftersales-hub hub \
    && mkdir -p /var/lib/aftersales-hub && chown hub /var/lib/aftersales-hub
USER hub
# 6066: a worker's HTTP (queries, feeds, console, /livez, /readyz, /metrics); 8080: the intake.
EXPOSE 6066 8080
# Liveness of the default role, the worker: the process answers (an orchestrator restarts it
# otherwise). docker-compose.yml declares each role's own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6066/livez', timeout=4)"]
ENTRYPOINT ["hub"]
CMD ["worker"]
