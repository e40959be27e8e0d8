#!/usr/bin/env python3
"""Parses an OTLP JSON trace file (mvm --export-otlp) with the official
opentelemetry-proto package and checks what a trace viewer relies on: ids of
the right length, every parent in its own trace, no span ending before it
starts. Prints "<traces> traces, <spans> spans". OTLP's JSON encodes ids in
hex where protobuf's JSON mapping expects base64: they are converted first,
as OTLP receivers do."""
import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def hex_to_base64(value):
    return base64.b64encode(bytes.fromhex(value)).decode()


def main(path):
    with open(path) as file:
        document = json.load(file)
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = hex_to_base64(span[key])
    request = json_format.ParseDict(document, ExportTraceServiceRequest())
    spans = [span for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans]
    if not spans:
        sys.exit("no spans")
    ids = {}
    for span in spans:
        if len(span.trace_id) != 16 or len(span.span_id) != 8:
            sys.exit(f"bad id length in span {span.name!r}")
        ids.setdefault(span.trace_id, set()).add(span.span_id)
        if span.end_time_unix_nano < span.start_time_unix_nano:
            sys.exit(f"span {span.name!r} ends before it starts")
    for span in spans:
        if span.parent_span_id and span.parent_span_id not in ids[span.trace_id]:
            sys.exit(f"span {span.name!r} has a parent outside its trace")
    roots = [span for span in spans if not span.parent_span_id]
    if len(roots) != len(ids):
        sys.exit(f"{len(ids)} traces but {len(roots)} root spans")
    print(f"{len(ids)} traces, {len(spans)} spans")


if __name__ == "__main__":
    main(sys.argv[1])
