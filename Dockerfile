# Vigil's image: a static-stdlib release build on the Swift image, copied onto a small
# Debian runtime with the few system libraries the binary links, run as a non-root user.
#
#   docker build -t ghcr.io/vigil-dev/vigil:0.1.0 .
#
# The build step is scripts/build-release, which CI runs on every change (no container
# engine runs there), so what this file builds is what the tests check.

FROM swift:6.3.1-bookworm AS build
# libxcrypt (crypt(3) for bcrypt) and, named by the design card, libcurl and libyaml for
# the build; binutils for strip.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcrypt-dev libcurl4-openssl-dev libyaml-dev binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY examples ./examples
COPY scripts/build-release scripts/release-flags scripts/link-order.txt scripts/link-layout.ld ./scripts/
RUN scripts/build-release /out

FROM debian:bookworm-slim
# What the static-stdlib binary still links: glibc, libstdc++ and libgcc (Foundation's
# ICU and the C++ runtime), zlib, and libcrypt; CA certificates for HTTPS backends.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcrypt1 libstdc++6 libgcc-s1 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 vigil \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vigil
COPY --from=build /out/vigil /usr/local/bin/vigil
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["run", "--leader-elect", "--log-format=json"]
