import Foundation
import Synchronization
import Testing
@testable import Shoal

/// A traced call carries its trace context to a node of this Shoal; a node
/// of an earlier one refuses such a call as malformed without running it,
/// and the call goes again without the context.
@Suite("Call trace context between versions")
struct CallTraceFallbackTests {
    let secret = try! CallSecret(Array("sixteen-bytes-at-least".utf8))

    @Test(.timeLimit(.minutes(1)))
    func aTracedCallToANodeOfAnEarlierShoalGoesAgainWithoutItsContext() async throws {
        var call = EntityCall(id: EntityID(type: "Account", key: "a"), target: "t", invocation: ShoalInvocation())
        call.traceContext = ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]
        #expect(try await served(call, readingTraceContext: true) == [call.traceContext], "this Shoal: the context arrives")
        #expect(try await served(call, readingTraceContext: false) == [nil], "an earlier one: run once, without it")
    }

    /// The trace contexts of the calls a node served for `call`.
    private func served(_ call: EntityCall, readingTraceContext: Bool) async throws -> [[String: String]?] {
        let seen = Mutex<[[String: String]?]>([])
        var service = EntityCallService(secret: secret, metrics: CallMetrics(), logger: testLogger) { call, _ in
            seen.withLock { $0.append(call.traceContext) }
            return .void
        }
        service.readsTraceContext = readingTraceContext
        let server = CallServer(listen: .init(host: "127.0.0.1", port: 0), maxMessageBytes: 1 << 20, service: service)
        let port = Mutex<Int?>(nil)
        let serving = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        defer {
            server.stop()
            serving.cancel()
        }
        #expect(await eventually { port.withLock { $0 } != nil })
        let clients = CallClients(secret: secret, maxMessageBytes: 1 << 20)
        defer { clients.shutdown() }
        let outcome = try await clients.send(call, to: "127.0.0.1:\(port.withLock { $0 } ?? 0)", timeout: .seconds(10))
        #expect("\(outcome)" == "\(ShoalResultHandler.Outcome.void)")
        return seen.withLock { $0 }
    }
}
