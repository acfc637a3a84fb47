"""An application configured only by the environment, as a pod with `envFrom` a Vigil
client Secret is: the OpenTelemetry Python SDK's OTLP exporter (gRPC, or HTTP with
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf) reads the endpoint, headers, CA and client
certificate from OTEL_EXPORTER_OTLP_*. It exports one span and exits 0 when the receiver
accepted it, 1 when not.
"""
import os
import sys

if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult


class Recording(OTLPSpanExporter):
    result = None

    def export(self, spans):
        Recording.result = super().export(spans)
        return Recording.result


provider = TracerProvider(resource=Resource.create({"service.name": "vigil-sdk-test"}))
provider.add_span_processor(SimpleSpanProcessor(Recording()))
with provider.get_tracer("vigil-sdk-test").start_as_current_span("checkout"):
    pass
provider.shutdown()
ok = Recording.result == SpanExportResult.SUCCESS
print("export " + ("succeeded" if ok else f"failed: {Recording.result}"), flush=True)
sys.exit(0 if ok else 1)
