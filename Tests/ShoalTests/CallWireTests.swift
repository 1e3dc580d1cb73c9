import Foundation
import Testing
@testable import Shoal

/// The bytes of calls and replies, and the proofs that travel with them:
/// round trips, and hostile input that must fail with an error, never a trap.
@Suite("Call wire format")
struct CallWireTests {
    let secret = try! CallSecret(Array("sixteen-bytes-at-least".utf8))

    @Test func aCallAndItsRepliesRoundTrip() throws {
        let call = EntityCall(
            id: EntityID(type: "Account", key: "ünïcode-key"), target: "$s7Account7balanceSiyF",
            invocation: ShoalInvocation(genericSubstitutions: ["Si"], arguments: [Data("42".utf8), Data()], throwsErrors: true),
            callID: "call-1"
        )
        let decoded = try EntityCall(decoding: call.encoded())
        #expect(decoded.id == call.id && decoded.target == call.target && decoded.callID == "call-1")
        #expect(decoded.invocation.arguments == call.invocation.arguments)
        #expect(decoded.invocation.genericSubstitutions == ["Si"] && decoded.invocation.throwsErrors)
        let failure = CallFailure(code: "handler", reason: "boom", errorType: "T", encodedError: Data("{}".utf8))
        for outcome: ShoalResultHandler.Outcome in [.value(Data("7".utf8)), .void, .error(failure)] {
            let again = try ShoalResultHandler.Outcome(decoding: outcome.encoded())
            #expect(String(describing: again) == String(describing: outcome))
        }
    }

    /// A call's trace context travels as an optional last field: a call
    /// without one is the same bytes as before calls were traced.
    @Test func aCallsTraceContextTravelsAsItsLastField() throws {
        var call = EntityCall(id: EntityID(type: "A", key: "k"), target: "t", invocation: ShoalInvocation(arguments: [Data([1])]))
        let untraced = call.encoded()
        #expect(try EntityCall(decoding: untraced).traceContext == nil)
        call.traceContext = [:]
        #expect(call.encoded() == untraced, "an empty context is not written")
        call.traceContext = ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "a=1"]
        let traced = call.encoded()
        #expect(Array(traced.prefix(untraced.count)) == untraced)
        #expect(try EntityCall(decoding: traced).traceContext == call.traceContext)
        #expect(throws: ShoalError.self, "a context of no fields is never written") { try EntityCall(decoding: untraced + [0]) }
        for length in untraced.count + 1..<traced.count {
            #expect(throws: ShoalError.self) { try EntityCall(decoding: Array(traced.prefix(length))) }
        }
    }

    @Test func everyTruncationOfACallFailsCleanly() throws {
        let bytes = EntityCall(id: EntityID(type: "A", key: "k"), target: "t", invocation: ShoalInvocation(arguments: [Data([1, 2, 3])])).encoded()
        for length in 0..<bytes.count {
            #expect(throws: ShoalError.self) { try EntityCall(decoding: Array(bytes.prefix(length))) }
        }
        #expect(throws: ShoalError.self) { try EntityCall(decoding: bytes + [0]) }
    }

    @Test func hostileNumbersFailCleanly() {
        // An 11-byte varint, a varint past 64 bits, and a count far past the bound.
        var reader = WireReader(Array(repeating: 0xff, count: 10) + [0x01])
        #expect(throws: ShoalError.self) { try reader.readVarint() }
        reader = WireReader(Array(repeating: 0xff, count: 9) + [0x02])
        #expect(throws: ShoalError.self) { try reader.readVarint() }
        reader = WireReader([0xff, 0xff, 0xff, 0xff, 0x0f])
        #expect(throws: ShoalError.self) { try reader.readCount(limit: 64) }
        reader = WireReader([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])
        #expect(throws: ShoalError.self) { try reader.readBytes() }
    }

    @Test func aProofHoldsForItsBytesOnly() throws {
        let request: [UInt8] = [1, 2, 3]
        let proof = CallProof(secret: secret, request: request)
        #expect(CallProof.problem(with: proof.bytes, request: request, secret: secret) == nil)
        #expect(CallProof(bytes: proof.bytes) == proof, "the wire form reads back")
        #expect(CallProof.problem(with: proof.bytes, request: [1, 2, 4], secret: secret) != nil, "other bytes")
        let other = try CallSecret(Array("another-secret-entirely".utf8))
        #expect(CallProof.problem(with: proof.bytes, request: request, secret: other) != nil, "another secret")
        #expect(CallProof.problem(with: nil, request: request, secret: secret) != nil, "no proof")
        let old = CallProof(secret: secret, request: request, now: Date(timeIntervalSinceNow: -600))
        #expect(CallProof.problem(with: old.bytes, request: request, secret: secret) != nil, "a proof ten minutes old")
        let reply: [UInt8] = [7, 7]
        #expect(proof.isValidReply(proof.replyCode(secret, reply: reply), reply, secret: secret))
        #expect(!proof.isValidReply(proof.replyCode(other, reply: reply), reply, secret: secret), "a reply proven with another secret")
        #expect(!proof.isValidReply(proof.replyCode(secret, reply: [7, 8]), reply, secret: secret), "a proof for another reply")
    }

    @Test func malformedProofsAreRefusedNotTrapped() {
        var farFuture = CallProof(secret: secret, request: [1]).bytes
        farFuture.replaceSubrange(16..<24, with: [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        var farPast = farFuture
        farPast.replaceSubrange(16..<24, with: [0x80, 0, 0, 0, 0, 0, 0, 0])
        let hostile: [[UInt8]] = [[], [1], Array(repeating: 0, count: 55), Array(repeating: 0, count: 57), Array(repeating: 0xff, count: 56), farFuture, farPast]
        for proof in hostile {
            #expect(CallProof.problem(with: proof, request: [1], secret: secret) != nil, "\(proof.prefix(24))")
        }
    }

    @Test func aCodableErrorCrossesAsItself() throws {
        // As the runtime hands it over: an `any Error`.
        func thrown<E: Error>(_ error: E) -> CallFailure { CallFailure(thrown: error) }
        let failure = thrown(Overdrawn(by: 5) as any Error)
        let again = try ShoalResultHandler.Outcome(decoding: ShoalResultHandler.Outcome.error(failure).encoded())
        guard case .error(let received) = again else { Issue.record("not an error"); return }
        #expect(received.error(calling: "t", on: EntityID(type: "A", key: "k")) as? Overdrawn == Overdrawn(by: 5))
        let plain = CallFailure(thrown: CancellationError())
        #expect((plain.error(calling: "t", on: EntityID(type: "A", key: "k")) as? ShoalError)?.code == .handler)
    }
}

/// An error an entity's call throws; `Codable`, so it reaches the caller as itself.
struct Overdrawn: Error, Codable, Equatable {
    var by: Int
}
