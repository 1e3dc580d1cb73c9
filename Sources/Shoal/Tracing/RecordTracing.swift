import ShoalKafka
import Tracing

/// Spans of a node's handler turns and of the outputs it publishes, with
/// the trace context carried in the records' headers, so that a pipeline
/// of stages (an entity's outputs are the next stage's records) is one
/// trace. The header format is the tracer's propagator's: `traceparent`
/// (W3C Trace Context) with swift-otel's.
///
/// A record's span: `ENTITY handle` (consumer), its parent the context the
/// record's headers carry. An output's: `TOPIC send` (producer), child of
/// the turn that emitted it (its context travels in the outbox's headers),
/// and parent of the next stage's turn.
struct RecordTracing: Sendable {
    let tracer: any Tracer

    /// The tracing of a node: its configured tracer, or the bootstrapped
    /// one; nil when neither traces, and then records cost nothing here.
    static func active(_ configured: (any Tracer)?) -> RecordTracing? {
        let tracer = configured ?? InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : RecordTracing(tracer: tracer)
    }

    /// A handler turn's span for `record`, a child of the context its headers carry.
    func turnSpan(for record: KafkaRecord, entity: String) -> any Span {
        var parent = InstrumentationContext.topLevel
        tracer.extract(record.headers, into: &parent, using: HeaderExtractor())
        let span = tracer.startSpan("\(entity) handle", context: parent, ofKind: .consumer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.operation.type"] = "process"
        span.attributes["messaging.destination.name"] = record.topic
        span.attributes["messaging.destination.partition.id"] = "\(record.partition)"
        span.attributes["messaging.kafka.offset"] = Int(record.offset)
        // The entity's key is left out: it may be a person's, and spans
        // leave the node for a collector an erase cannot reach.
        span.attributes["shoal.entity.type"] = entity
        return span
    }

    /// A timer firing's span: a turn of its own, with no parent.
    func timerSpan(_ timer: String, entity: String) -> any Span {
        let span = tracer.startSpan("\(entity) timer", context: .topLevel, ofKind: .internal)
        span.attributes["shoal.entity.type"] = entity
        span.attributes["shoal.timer"] = timer
        return span
    }

    /// Marks `span` failed by `error`, naming its code (a ``ShoalError``'s)
    /// or its type, never its description: a description may name the
    /// entity's key, which spans leave out.
    static func failed(_ span: any Span, by error: any Error) {
        failed(span, code: (error as? ShoalError)?.code.description ?? "\(type(of: error))")
    }

    /// Marks `span` failed with an error's code (`shoal.failure`).
    static func failed(_ span: any Span, code: String) {
        span.attributes["shoal.failure"] = code
        span.setStatus(SpanStatus(code: .error, message: code))
    }

    /// Runs `body` with `span`'s context as the task's, when there is a span.
    static func within<T>(_ span: (any Span)?, _ body: () async -> T) async -> T {
        guard let span else { return await body() }
        return await InstrumentationContext.withValue(span.context, operation: body)
    }

    /// `messages` carrying `context` in their headers.
    func inject(_ context: InstrumentationContext, into messages: [KafkaProducerMessage]) -> [KafkaProducerMessage] {
        messages.map { message in
            var message = message
            tracer.inject(context, into: &message.headers, using: HeaderInjector())
            return message
        }
    }

    /// An output's send span, a child of the turn whose context its stored
    /// headers carry; the headers then carry the send span's context.
    func sendSpan(topic: String, headers: inout [KafkaHeader]) -> any Span {
        var parent = InstrumentationContext.topLevel
        tracer.extract(headers, into: &parent, using: HeaderExtractor())
        let span = tracer.startSpan("\(topic) send", context: parent, ofKind: .producer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.operation.type"] = "send"
        span.attributes["messaging.destination.name"] = topic
        tracer.inject(span.context, into: &headers, using: HeaderInjector())
        return span
    }
}

/// Reads trace context from a record's headers (the last of a name wins).
struct HeaderExtractor: Extractor {
    func extract(key: String, from headers: [KafkaHeader]) -> String? {
        headers.last { $0.key == key }?.stringValue
    }
}

/// Writes trace context into headers, replacing a header of the same name.
struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout [KafkaHeader]) {
        headers.removeAll { $0.key == key }
        headers.append(KafkaHeader(key: key, string: value))
    }
}
