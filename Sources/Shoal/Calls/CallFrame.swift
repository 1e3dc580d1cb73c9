import NIOCore

/// What travels on a call connection: after the caller's preface, frames of
/// `length (u32) kind (u8) id (u64) body`, big-endian. Each call and its
/// answer share an id, so one connection carries many calls at once and
/// answers come back in whatever order the entities finish.
enum CallFrame: Sendable, Equatable {
    /// A call: its proof of the shared secret (``CallProof``'s wire form),
    /// how long the caller waits, and the call's bytes.
    case request(id: UInt64, proof: [UInt8]?, timeoutMillis: UInt32, message: [UInt8])
    /// The node's answer: its proof (an HMAC of the caller's nonce and the
    /// reply) and the reply's bytes.
    case reply(id: UInt64, proof: [UInt8], message: [UInt8])
    /// The node did not run the call, and why.
    case refusal(id: UInt64, reason: CallRefusal, detail: String)
    /// A frame longer than the receiver accepts; its bytes are skipped.
    case oversized(id: UInt64, bytes: Int)

    /// The first bytes a caller sends: a peer speaking anything else (or
    /// another version of this protocol) is cut off at once.
    static let preface: [UInt8] = Array("shoal\u{0}c1".utf8)
    /// Bytes of a frame before its body: length, kind and id.
    static let headerBytes = 13
    /// Room for the proof and fields around a message of the bounded size.
    static let overheadBytes = 1_024

    fileprivate enum Kind: UInt8 {
        case request = 1, reply = 2, refusal = 3
    }

    var id: UInt64 {
        switch self {
        case .request(let id, _, _, _), .reply(let id, _, _), .refusal(let id, _, _), .oversized(let id, _): id
        }
    }

    /// Appends the frame to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))  // the length, set below
        switch self {
        case .request(let id, let proof, let timeout, let message):
            buffer.writeInteger(Kind.request.rawValue)
            buffer.writeInteger(id)
            // A proof is 56 bytes; a longer one is cut, and refused.
            let proofBytes = proof.map { Array($0.prefix(Int(UInt16.max))) } ?? []
            buffer.writeInteger(UInt16(proofBytes.count))
            buffer.writeBytes(proofBytes)
            buffer.writeInteger(timeout)
            buffer.writeBytes(message)
        case .reply(let id, let proof, let message):
            buffer.writeInteger(Kind.reply.rawValue)
            buffer.writeInteger(id)
            buffer.writeInteger(UInt8(clamping: proof.count))
            buffer.writeBytes(proof.prefix(Int(UInt8.max)))
            buffer.writeBytes(message)
        case .refusal(let id, let reason, let detail):
            buffer.writeInteger(Kind.refusal.rawValue)
            buffer.writeInteger(id)
            buffer.writeInteger(reason.rawValue)
            buffer.writeString(detail)
        case .oversized:
            preconditionFailure("an oversized frame is only ever read")
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }

    /// The frame whose kind, id and body `body` holds (the length read).
    static func read(kind: UInt8, id: UInt64, body: inout ByteBuffer) throws(CallFrameError) -> CallFrame {
        switch Kind(rawValue: kind) {
        case .request?:
            guard let proofLength = body.readInteger(as: UInt16.self),
                let proof = body.readBytes(length: Int(proofLength)),
                let timeout = body.readInteger(as: UInt32.self)
            else { throw CallFrameError("a request frame ends inside its header") }
            return .request(id: id, proof: proof.isEmpty ? nil : proof, timeoutMillis: timeout, message: body.readBytes(length: body.readableBytes) ?? [])
        case .reply?:
            guard let proofLength = body.readInteger(as: UInt8.self), let proof = body.readBytes(length: Int(proofLength)) else {
                throw CallFrameError("a reply frame ends inside its proof")
            }
            return .reply(id: id, proof: proof, message: body.readBytes(length: body.readableBytes) ?? [])
        case .refusal?:
            guard let raw = body.readInteger(as: UInt8.self), let reason = CallRefusal(rawValue: raw) else {
                throw CallFrameError("a refusal frame has no known reason")
            }
            return .refusal(id: id, reason: reason, detail: body.readString(length: body.readableBytes) ?? "")
        case nil:
            throw CallFrameError("frame kind \(kind) is not one of this protocol's")
        }
    }
}

/// Why a node refused a call without running it.
enum CallRefusal: UInt8, Sendable {
    /// No proof of the shared secret, or a wrong or stale one.
    case unauthenticated = 1
    /// The bytes are not a call.
    case malformed = 2
    /// More bytes than the node accepts.
    case tooLarge = 3
}

/// Bytes on a call connection that are not this protocol: the connection
/// is closed.
struct CallFrameError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Splits a connection's bytes into frames: checks the preface (when the
/// peer is a caller), refuses frames longer than `maxFrameBytes` without
/// buffering them, and fails on anything that is not this protocol.
struct CallFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = CallFrame

    let maxFrameBytes: Int
    private var awaitingPreface: Bool
    /// Bytes of an oversized frame still to skip.
    private var skipping = 0

    init(maxFrameBytes: Int, expectsPreface: Bool) {
        self.maxFrameBytes = maxFrameBytes
        self.awaitingPreface = expectsPreface
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if awaitingPreface {
            let seen = buffer.readableBytesView.prefix(CallFrame.preface.count)
            guard seen.elementsEqual(CallFrame.preface.prefix(seen.count)) else { throw CallFrameError("the peer does not speak Shoal's call protocol") }
            guard seen.count == CallFrame.preface.count else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: seen.count)
            awaitingPreface = false
        }
        if skipping > 0 {
            let skipped = min(skipping, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: skipped)
            skipping -= skipped
            return skipping > 0 ? .needMoreData : .continue
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let frameBytes = Int(length)
        guard frameBytes >= CallFrame.headerBytes - 4 else { throw CallFrameError("a frame of \(frameBytes) bytes is shorter than its header") }
        guard buffer.readableBytes >= CallFrame.headerBytes else { return .needMoreData }
        let kind = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self)!
        let id = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt64.self)!
        guard frameBytes <= maxFrameBytes else {
            buffer.moveReaderIndex(forwardBy: CallFrame.headerBytes)
            skipping = frameBytes - (CallFrame.headerBytes - 4)
            context.fireChannelRead(wrapInboundOut(.oversized(id: id, bytes: frameBytes)))
            return .continue
        }
        guard buffer.readableBytes >= 4 + frameBytes else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: CallFrame.headerBytes)
        var body = buffer.readSlice(length: frameBytes - (CallFrame.headerBytes - 4))!
        context.fireChannelRead(wrapInboundOut(try CallFrame.read(kind: kind, id: id, body: &body)))
        return .continue
    }
}

/// A connection's frames, written as they come and flushed once per turn
/// of its event loop: frames finished together leave in one write.
/// Confined to the connection's loop.
final class FramesOut {
    private var flushScheduled = false

    func write(_ frame: CallFrame, _ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        frame.write(to: &buffer)
        context.write(NIOAny(buffer), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }
}
