import Foundation
import Synchronization
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import ShoalKafka
import Testing
@testable import CounterApp
@testable import Shoal

/// A node serving calls refuses whoever does not prove the group's secret,
/// and bytes that are not calls, and goes on serving the callers that do.
@Suite("Call security")
struct CallSecurityTests {
    let secret = try! CallSecret(Array("the-group-secret-of-these-tests".utf8))

    @Test(.timeLimit(.minutes(3)))
    func peersWithoutTheSecretAndBadBytesAreRefusedAndTheNodeKeepsServing() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("secure")
        try broker.createChangelog(group: group, partitions: 8)
        let port = freePorts(1)
        var configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group,
            dataDirectory: try temporaryDirectory().path, sessionTimeout: .seconds(6)
        )
        configuration.calls = CallConfiguration(listen: .init(host: "127.0.0.1", port: port), secret: secret, maxMessageBytes: 64 << 10)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        let address = "127.0.0.1:\(port)"
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":0,"amount":5}"#)])
            let good = CallClients(secret: secret, maxMessageBytes: 1 << 20)
            try await withClients(good) {
                #expect(await eventually { (try? await total(of: "k", via: good, at: address))?.sum == 5 })

                let wrong = CallClients(secret: try CallSecret(Array("not-the-group-secret-at-all".utf8)), maxMessageBytes: 1 << 20)
                try await withClients(wrong) {
                    let refusal = await #expect(throws: ShoalError.self) { try await total(of: "k", via: wrong, at: address) }
                    #expect(refusal?.code == .unauthenticated, "a wrong secret: \(String(describing: refusal))")
                }

                let unproven = await #expect(throws: RPCError.self) { try await unprovenCall(at: port) }
                #expect(unproven?.code == .unauthenticated, "no proof at all: \(String(describing: unproven))")

                // Larger than the node's 64 KiB bound: refused before it is read whole.
                let huge = EntityCall(
                    id: EntityID(type: "Counter", key: "k"), target: "total",
                    invocation: ShoalInvocation(arguments: [Data(repeating: 7, count: 200 << 10)])
                )
                let oversized = await #expect(throws: RPCError.self) { _ = try await good.send(huge, to: address, timeout: .seconds(10)) }
                // The node resets the stream once the frames pass the bound.
                #expect([.resourceExhausted, .unavailable].contains(oversized?.code), "an oversized call: \(String(describing: oversized))")

                for garbage in [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), (0..<4_096).map { _ in UInt8.random(in: 0...255) }] {
                    #expect(try rawExchange(garbage, port: port), "the node closes a connection that does not speak its protocol")
                }
                // Well-formed gRPC whose message is not a call.
                let malformed = await #expect(throws: RPCError.self) { try await unprovenCall(at: port, bytes: [9, 9, 9], secret: secret) }
                #expect(malformed?.code == .invalidArgument, "bytes that are not a call: \(String(describing: malformed))")

                #expect(try await total(of: "k", via: good, at: address).sum == 5, "the node still serves a caller with the secret")
            }
        }
    }

    private func total(of key: String, via clients: CallClients, at address: String) async throws -> CounterTotal {
        let call = try await CallCapture.call { try await Counter.reference(key: key, in: $0).total() }
        switch try await clients.send(call, to: address, timeout: .seconds(10)) {
        case .value(let data): return try JSONDecoder().decode(CounterTotal.self, from: data)
        case .void: throw ShoalError(code: .invocation, reason: "no value")
        case .error(let failure): throw failure.error(calling: call.target, on: call.id)
        }
    }

    private func withClients(_ clients: CallClients, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await clients.run() }
            defer { clients.shutdown() }
            try await body()
        }
    }

    /// A gRPC call to the node's method without Shoal's proof (or with one
    /// made for other bytes when `secret` is given).
    private func unprovenCall(at port: Int, bytes: [UInt8] = [1], secret: CallSecret? = nil) async throws {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            var metadata = Metadata()
            if let secret { metadata.addString(CallProof(secret: secret, request: bytes).header, forKey: CallProof.requestKey) }
            _ = try await client.unary(
                request: ClientRequest(message: bytes, metadata: metadata), descriptor: EntityCallMethod.descriptor,
                serializer: RawBytesCoder(), deserializer: RawBytesCoder(), options: .defaults
            ) { try $0.message }
        }
    }
}

/// Writes `bytes` to the port and reads until the peer closes; true when it
/// closed within a few seconds.
private func rawExchange(_ bytes: [UInt8], port: Int) throws -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw ShoalError(code: .configuration, reason: "no socket") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw ShoalError(code: .configuration, reason: "cannot connect to \(port)") }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var buffer = [UInt8](repeating: 0, count: 4_096)
    while true {
        let read = recv(descriptor, &buffer, buffer.count, 0)
        if read == 0 { return true }  // closed by the node
        if read < 0 { return errno == ECONNRESET }
    }
}

/// Records the call an actor system would send, to send it by other means.
final class CallCapture: EntityCallRouter {
    private let captured = Mutex<EntityCall?>(nil)

    func deliver(_ call: EntityCall) async throws -> ShoalResultHandler.Outcome {
        captured.withLock { $0 = call }
        return .error(CallFailure(code: "captured", reason: "captured"))
    }

    /// The call `body` makes on a system that only records it.
    static func call(_ body: (ShoalActorSystem) async throws -> some Any) async throws -> EntityCall {
        let system = ShoalActorSystem()
        let capture = CallCapture()
        system.install(capture)
        _ = try? await body(system)
        return try #require(capture.captured.withLock { $0 })
    }
}
