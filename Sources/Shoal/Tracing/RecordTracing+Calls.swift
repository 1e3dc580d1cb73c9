import Distributed
import Tracing

/// Spans of entity calls, `ENTITY call`: one where the call is made (kind
/// client, a child of the caller's context, such as a handler turn or a
/// span of the application) and one for its turn in the entity (kind
/// server), a child of the first, whose context the call carries, to
/// another node too. Outputs the turn emits carry the turn's context, as
/// a record's turn's do.
extension RecordTracing {
    /// The caller's span of `call`; the call then carries its context.
    func callerSpan(for call: inout EntityCall) -> any Span {
        let span = tracer.startSpan("\(call.id.type) call", context: InstrumentationContext.current ?? .topLevel, ofKind: .client)
        Self.describe(call, in: span)
        var fields: [String: String] = [:]
        tracer.inject(span.context, into: &fields, using: TraceFieldInjector())
        call.traceContext = fields.isEmpty ? nil : fields
        return span
    }

    /// The span of `call`'s turn in its entity.
    func turnSpan(for call: EntityCall) -> any Span {
        var parent = InstrumentationContext.topLevel
        if let fields = call.traceContext { tracer.extract(fields, into: &parent, using: TraceFieldExtractor()) }
        let span = tracer.startSpan("\(call.id.type) call", context: parent, ofKind: .server)
        Self.describe(call, in: span)
        return span
    }

    /// The call's method and entity type (not its key: see `turnSpan(for:entity:)`).
    private static func describe(_ call: EntityCall, in span: any Span) {
        span.attributes["rpc.system"] = "shoal"
        span.attributes["rpc.method"] = method(call.target)
        span.attributes["shoal.entity.type"] = call.id.type
    }

    /// A distributed method's name, demangled (only here, when a tracer
    /// records it); the runtime's own targets (erase, state) as they are.
    static func method(_ target: String) -> String {
        target.hasPrefix(EntityCall.runtimeTargetPrefix) ? target : RemoteCallTarget(target).description
    }

    /// Ends the caller's span with the call's outcome.
    static func end(_ span: any Span, with outcome: Result<ShoalResultHandler.Outcome, any Error>) {
        switch outcome {
        case .success(.error(let failure)): failed(span, failure)
        case .failure(let error): failed(span, by: error)
        case .success: break
        }
        span.end()
    }

    /// Marks a call's span failed with `failure`'s code, not its reason
    /// (see ``failed(_:by:)``).
    static func failed(_ span: any Span, _ failure: CallFailure) {
        failed(span, code: failure.code)
    }
}

/// Writes trace context into a call's fields.
struct TraceFieldInjector: Injector {
    func inject(_ value: String, forKey key: String, into fields: inout [String: String]) {
        fields[key] = value
    }
}

/// Reads trace context from a call's fields.
struct TraceFieldExtractor: Extractor {
    func extract(key: String, from fields: [String: String]) -> String? {
        fields[key]
    }
}
