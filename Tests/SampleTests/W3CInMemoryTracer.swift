import InMemoryTracing
import Tracing

/// The tracing library's in-memory tracer, propagating its span context
/// as a W3C `traceparent` header (version 00, sampled), as an OTel
/// tracer's W3C propagator does: what a node writes into records' headers
/// is then what a collector downstream reads.
struct W3CInMemoryTracer: Tracer {
    /// Ids in W3C's form: 32 and 16 lowercase hex digits, random.
    let recorder = InMemoryTracer(idGenerator: .init(
        nextTraceID: { hex(UInt64.random(in: 1...UInt64.max)) + hex(UInt64.random(in: 1...UInt64.max)) },
        nextSpanID: { hex(UInt64.random(in: 1...UInt64.max)) }
    ))

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() { recorder.forceFlush() }

    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        let fields = extractor.extract(key: "traceparent", from: carrier)?.split(separator: "-") ?? []
        guard fields.count == 4, fields[0] == "00", fields[1].count == 32, fields[2].count == 16 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(fields[1]), spanID: String(fields[2]), parentSpanID: nil)
    }
}

/// 16 lowercase hex digits.
private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
