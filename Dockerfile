# syntax=docker/dockerfile:1
# backupdrill_exporter as a container image, for users who build their own
# images (deploy/kubernetes/ expects it as backupdrill:<version>):
#
#   docker build -t backupdrill:0.1.0 .
#   docker build --build-arg PG_MAJOR=16 -t backupdrill:0.1.0-pg16 .
#
# NOT built in this project's CI (no container runtime there): the supported,
# tested artifacts are the build tree and the Debian package (cpack -G DEB).
#
# pg_dump must be at least as new as the newest server it dumps: PG_MAJOR
# selects postgresql-client-<N> from apt.postgresql.org (default 17, the
# newest major the drills are meant for; older servers are fine with it).

ARG DEBIAN_RELEASE=bookworm
ARG PG_MAJOR=17

# ---- build ----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates \
      libpqxx-dev libpq-dev libboost-dev libtomlplusplus-dev libssl-dev libspdlog-dev libfmt-dev \
      libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev prometheus-cpp-dev \
      libyaml-cpp-dev libcrypt-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Only the exporter and the bundled check plugins (no tests), installed with
# the package's layout: /usr/bin, /usr/lib/backupdrill/checks, /etc/backupdrill.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    && cmake --build /build --target backupdrill_runtime -j"$(nproc)" \
    && DESTDIR=/staging cmake --install /build --strip \
    && rm -rf /staging/usr/include /staging/usr/lib/cmake /staging/usr/lib/systemd /staging/etc/default

# ---- runtime --------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
ARG PG_MAJOR
ARG DEBIAN_RELEASE
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
         https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${DEBIAN_RELEASE}-pgdg main" \
         > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      postgresql-client-${PG_MAJOR} \
      libpqxx-6.4 libprometheus-cpp-core1.0 libspdlog1.10-fmt9 libfmt9 libtomlplusplus3 \
      libyaml-cpp0.7 libssl3 libcrypt1 \
    && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 backupdrill \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/backupdrill --shell /usr/sbin/nologin backupdrill \
    && install -d -m 0700 -o 10001 -g 10001 /var/lib/backupdrill
COPY --from=build /staging/ /
USER 10001:10001
WORKDIR /var/lib/backupdrill
VOLUME ["/var/lib/backupdrill"]
EXPOSE 10125
ENTRYPOINT ["/usr/bin/backupdrill_exporter"]
CMD ["--config.file=/etc/backupdrill/backupdrill.toml"]
