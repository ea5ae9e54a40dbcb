# The pipetune component image: every KFP component runs on it (components/_image.py).
#   make image                       # tags ghcr.io/pipetune/pipetune:<pipetune version>
#   make image IMAGE=<your registry>/pipetune && docker push <your registry>/pipetune:<version>
# It holds this checkout's pipetune with the SageMaker, Vertex AI and KFP extras, so every
# backend works inside a step and nothing is installed when a step starts.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

WORKDIR /src
COPY pyproject.toml setup.py README.md constraints.txt ./
COPY pipetune/ pipetune/
COPY components/ components/
COPY airflow_provider/ airflow_provider/
RUN pip install -c constraints.txt ".[aws,gcp,kfp]" && rm -rf /src

# least privilege: steps run as an unprivileged user with a home of its own
RUN useradd --create-home --uid 10001 pipetune
USER pipetune
WORKDIR /home/pipetune
ENV PIPETUNE_HOME=/home/pipetune/.pipetune
