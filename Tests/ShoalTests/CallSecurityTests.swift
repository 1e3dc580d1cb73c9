import Foundation
import NIOCore
import Synchronization
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
            defer { good.shutdown() }
            #expect(await eventually { (try? await total(of: "k", via: good, at: address))?.sum == 5 })

            let wrong = CallClients(secret: try CallSecret(Array("not-the-group-secret-at-all".utf8)), maxMessageBytes: 1 << 20)
            defer { wrong.shutdown() }
            let refusal = await #expect(throws: ShoalError.self) { try await total(of: "k", via: wrong, at: address) }
            #expect(refusal?.code == .unauthenticated, "a wrong secret: \(String(describing: refusal))")

            let valid = try await CallCapture.call { try await Counter.reference(key: "k", in: $0).total() }.encoded()
            let unproven = try await wrong.exchange(valid, proof: nil, to: address, timeout: .seconds(10))
            #expect(isRefusal(unproven, .unauthenticated), "no proof at all: \(unproven)")
            let stale = CallProof(secret: secret, request: valid, now: Date(timeIntervalSinceNow: -3_600)).bytes
            let replayed = try await wrong.exchange(valid, proof: stale, to: address, timeout: .seconds(10))
            #expect(isRefusal(replayed, .unauthenticated), "a proof an hour old: \(replayed)")
            let forOtherBytes = CallProof(secret: secret, request: [1, 2, 3]).bytes
            let misapplied = try await wrong.exchange(valid, proof: forOtherBytes, to: address, timeout: .seconds(10))
            #expect(isRefusal(misapplied, .unauthenticated), "a proof made for other bytes: \(misapplied)")

            // Larger than the node's 64 KiB bound: refused, its bytes skipped unread.
            let huge = EntityCall(
                id: EntityID(type: "Counter", key: "k"), target: "total",
                invocation: ShoalInvocation(arguments: [Data(repeating: 7, count: 200 << 10)])
            )
            let oversized = await #expect(throws: ShoalError.self) { _ = try await good.send(huge, to: address, timeout: .seconds(10)) }
            #expect(oversized?.code == .invocation && oversized?.reason.contains("more than") == true, "an oversized call: \(String(describing: oversized))")
            #expect(try await total(of: "k", via: good, at: address).sum == 5, "the connection goes on after an oversized call")

            let preface = CallFrame.preface
            var unknownKind = ByteBuffer()
            unknownKind.writeBytes([0, 0, 0, 9, 77, 0, 0, 0, 0, 0, 0, 0, 1])
            for garbage in [
                Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), (0..<4_096).map { _ in UInt8.random(in: 0...255) },
                preface + Array(unknownKind.readableBytesView), preface + [0, 0, 0, 2, 1, 1],
            ] {
                #expect(try rawExchange(garbage, port: port), "the node closes a connection that does not speak its protocol: \(garbage.prefix(16))")
            }
            // A peer that says hello and nothing more loses its connection
            // after the node's deadline for a proven call.
            #expect(try rawExchange(preface, port: port, timeout: 20), "the node closes a connection that proves nothing")
            // Proven bytes that are not a call.
            let notACall: [UInt8] = [9, 9, 9]
            let malformed = try await good.exchange(notACall, proof: CallProof(secret: secret, request: notACall).bytes, to: address, timeout: .seconds(10))
            #expect(isRefusal(malformed, .malformed), "bytes that are not a call: \(malformed)")

            #expect(try await total(of: "k", via: good, at: address).sum == 5, "the node still serves a caller with the secret")
        }
    }

    private func isRefusal(_ frame: CallFrame, _ reason: CallRefusal) -> Bool {
        if case .refusal(_, reason, _) = frame { return true }
        return false
    }

    private func total(of key: String, via clients: CallClients, at address: String) async throws -> CounterTotal {
        let call = try await CallCapture.call { try await Counter.reference(key: key, in: $0).total() }
        switch try await clients.send(call, to: address, timeout: .seconds(10)) {
        case .value(let data): return try JSONDecoder().decode(CounterTotal.self, from: data)
        case .void: throw ShoalError(code: .invocation, reason: "no value")
        case .error(let failure): throw failure.error(calling: call.target, on: call.id)
        }
    }
}

/// Writes `bytes` to the port and reads until the peer closes; true when it
/// closed within `seconds`.
private func rawExchange(_ bytes: [UInt8], port: Int, timeout seconds: Int = 5) throws -> Bool {
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
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
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
