# Hub worker image: `docker compose up --scale worker=N` runs N workers sharing the partitions.
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
EXPOSE 6066
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:6066/health').status == 200 else 1)"
ENTRYPOINT ["hub"]
CMD ["worker"]
