import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// A bare gRPC unary echo on loopback, no Shoal around it: the floor of
/// what calls over grpc-swift-2 can reach on this machine.
enum GRPCEchoBaseline {
    struct Bytes: MessageSerializer, MessageDeserializer {
        func serialize<B: GRPCContiguousBytes>(_ message: [UInt8]) throws -> B { B(message) }
        func deserialize<B: GRPCContiguousBytes>(_ bytes: B) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
    }

    struct Echo: RegistrableRPCService {
        static let method = MethodDescriptor(fullyQualifiedService: "bench.Echo", method: "Echo", type: .unary)

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(forMethod: Self.method, deserializer: Bytes(), serializer: Bytes()) { request, _ in
                var received: [UInt8] = []
                for try await message in request.messages { received = message }
                return StreamingServerResponse(single: ServerResponse(message: received))
            }
        }
    }

    /// Echo calls per second with `inFlight` outstanding for `seconds`.
    static func throughput(inFlight: Int, seconds: Int) async throws -> Double {
        let server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [Echo()]
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            guard let port = try await server.transport.listeningAddress.ipv4?.port else { return 0 }
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            return try await withGRPCClient(transport: transport) { client in
                let count = CallCount()
                let deadline = ContinuousClock.now + .seconds(seconds)
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { lanes in
                    for _ in 0..<inFlight {
                        lanes.addTask {
                            while ContinuousClock.now < deadline {
                                _ = try await client.unary(
                                    request: ClientRequest(message: Array(repeating: 1, count: 64)), descriptor: Echo.method,
                                    serializer: Bytes(), deserializer: Bytes(), options: .defaults
                                ) { try $0.message }
                                count.increment()
                            }
                        }
                    }
                    try await lanes.waitForAll()
                }
                return Double(count.value) / (ContinuousClock.now - started).seconds
            }
        }
    }
}
