# health-export: slim image, dependencies from uv.lock, runs as a non-root user.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app health-export
WORKDIR /app
COPY --from=build --chown=health-export:health-export /app /app
ENV PATH="/app/.venv/bin:$PATH" HOST=0.0.0.0 PORT=8000 PYTHONUNBUFFERED=1
USER health-export
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/health', timeout=2)"]
CMD ["sh", "-c", "health-export migrate && health-export bootstrap && exec health-export serve"]
