# Köprü: the SPARQL endpoint and linked-data pages, under gunicorn.
#
#   docker build -t kopru .
#   docker run -p 8080:8080 kopru                          # the embedded store, built into the image
#   docker run -p 8080:8080 -e KOPRU_STORE_URL=http://oxigraph:7878 kopru   # a remote SPARQL store
#
# Fill a remote store from a checkout (or from this image):
#   kopru build --push http://oxigraph:7878
# See docs/deployment.md (reverse proxy, workers, every KOPRU_* variable).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --create-home --home-dir /home/kopru --shell /usr/sbin/nologin kopru

# The package first (this layer is rebuilt only when the code changes)…
WORKDIR /src
COPY pyproject.toml LICENSE ./
COPY server ./server
RUN pip install . && rm -rf /src

# …then the project it serves: ontology, data, queries.
WORKDIR /srv/kopru
COPY ontology ./ontology
COPY graph ./graph
COPY queries ./queries

ENV KOPRU_STATE_DIR=/var/lib/kopru \
    KOPRU_HOST=0.0.0.0 \
    KOPRU_PORT=8080 \
    KOPRU_QUERY_TIMEOUT=10 \
    KOPRU_RESULT_LIMIT=10000

# Build the embedded store into the image (validation and inference run
# here, so a broken graph fails the image build, not the container start).
RUN mkdir -p /var/lib/kopru && kopru build && chown -R kopru:kopru /var/lib/kopru

USER kopru
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('KOPRU_PORT', '8080') + '/healthz', timeout=5).status == 200 else 1)"]

# KOPRU_WORKERS (default 2 x cores), KOPRU_STORE_URL (+ KOPRU_STORE_USER,
# KOPRU_STORE_PASSWORD) and the other KOPRU_* variables apply.
CMD ["kopru", "serve"]
