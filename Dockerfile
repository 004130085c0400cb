# kiemphieu: one static binary on a small base image.
FROM golang:1.26-bookworm AS build
# Go 1.27.3 for the standard library's security fixes (README).
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /kiemphieu ./cmd/kiemphieu

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates wget \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /data kiemphieu
COPY --from=build /kiemphieu /usr/local/bin/kiemphieu
USER kiemphieu
EXPOSE 8080
ENV KIEMPHIEU_ADDR=0.0.0.0:8080 KIEMPHIEU_DATA=/data KIEMPHIEU_LOG_FORMAT=json
ENTRYPOINT ["kiemphieu"]
CMD ["serve"]
