import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import Synchronization

/// Serves ``EntityCallService`` over gRPC (HTTP/2 on SwiftNIO): one
/// connection carries many calls at once. Requests larger than the
/// configured bound are refused before they are read whole; a peer that
/// speaks something other than HTTP/2 loses its connection, not the node.
final class CallServer: Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private enum Phase { case idle, serving, stopped }
    private let phase = Mutex(Phase.idle)

    init(listen: CallConfiguration.Endpoint, maxMessageBytes: Int, service: EntityCallService) {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = maxMessageBytes
        let address: GRPCNIOTransportCore.SocketAddress = listen.host.contains(":")
            ? .ipv6(host: listen.host, port: listen.port) : .ipv4(host: listen.host, port: listen.port)
        let transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: .plaintext, config: config)
        server = GRPCServer(transport: transport, services: [service])
    }

    /// Serves until ``stop()``; returns at once when stopped before it began.
    func run() async throws {
        let begin = phase.withLock { phase in
            guard phase == .idle else { return false }
            phase = .serving
            return true
        }
        guard begin else { return }
        try await server.serve()
    }

    func stop() {
        let serving = phase.withLock { phase in
            defer { phase = .stopped }
            return phase == .serving
        }
        if serving { server.beginGracefulShutdown() }
    }

    /// The port it listens on, once bound.
    var boundPort: Int {
        get async throws {
            let address = try await server.transport.listeningAddress
            if let ipv4 = address.ipv4 { return ipv4.port }
            if let ipv6 = address.ipv6 { return ipv6.port }
            throw ShoalError(code: .configuration, reason: "the call server listens on \(address), not an IP address")
        }
    }
}
