# syntax=docker/dockerfile:1
# Tonari app image: the PWA is built with Node in the first stage; the runtime is Python only.
#   docker compose up --build        (see docker-compose.yml)

# --- stage 1: build the PWA (Vite 8 needs Node >= 20.19) ------------------------------------
FROM node:20-bookworm-slim AS pwa-build
WORKDIR /src/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa/ ./
# The vocabulary the server reads too (pwa/src/vocab.ts imports ../../vocab/vocabulary.json).
COPY vocab/vocabulary.json /src/vocab/vocabulary.json
RUN npm run build

# --- stage 2: runtime ---------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TONARI_VAR_DIR=/app/var \
    TONARI_PWA_DIST=/app/pwa/dist
WORKDIR /app
COPY . .
# The code runs from /app (python -m server.cli, cwd /app); installing the project brings its
# dependencies. var/ holds the generated secret key (a volume in docker-compose.yml).
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tonari \
 && mkdir -p /app/var \
 && chown tonari /app/var
COPY --from=pwa-build /src/pwa/dist /app/pwa/dist
USER tonari
EXPOSE 8000
CMD ["sh", "-c", "python -m server.cli migrate && exec python -m server.cli serve --host 0.0.0.0 --port 8000"]
