import Logging

/// A node's side of remote calls: the server other processes call and the
/// clients it calls other nodes with.
struct NodeCalls: Sendable {
    let server: CallServer
    let clients: CallClients
    let listen: CallConfiguration.Endpoint
    let advertise: CallConfiguration.Endpoint?

    /// The node's calls per its configuration; nil when it serves none.
    /// - Throws: ``ShoalError`` `configuration` naming a missing setting.
    static func configured(for node: ShoalNode) throws -> NodeCalls? {
        let configuration = node.configuration.calls
        guard let listen = configuration.listen else { return nil }
        guard let secret = configuration.secret else {
            throw ShoalError(
                code: .configuration,
                reason: "serving calls (--listen \(listen)) needs the group's call secret: --call-secret-file FILE or \(CallSecret.environmentVariable)"
            )
        }
        if configuration.advertise == nil, ["0.0.0.0", "::", ""].contains(listen.host) {
            throw ShoalError(
                code: .configuration,
                reason: "--listen \(listen) names no address other processes can reach: set --advertise HOST:PORT"
            )
        }
        let service = EntityCallService(secret: secret, metrics: node.callMetrics, logger: node.logger) { await node.serve($0, within: $1) }
        return NodeCalls(
            server: CallServer(listen: listen, maxMessageBytes: configuration.maxMessageBytes, service: service),
            clients: CallClients(secret: secret, maxMessageBytes: configuration.maxMessageBytes),
            listen: listen, advertise: configuration.advertise
        )
    }

    /// Serves calls and runs the clients until ``stop()``; announces the
    /// node's address once the server listens.
    func run(board: MembersBoard, logger: Logger) async throws {
        let (listen, advertise) = (self.listen, self.advertise)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.run { port in
                    let address = advertise ?? CallConfiguration.Endpoint(host: listen.host, port: port)
                    logger.notice("Serving calls", metadata: ["listen": "\(listen.host):\(port)", "advertise": "\(address)"])
                    board.announce(address: address.description)
                }
            }
            group.addTask { await clients.run() }
            group.addTask { await prune(from: board.members) }
            try await group.waitForAll()
        }
    }

    /// Closes, every few seconds, the clients of nodes no longer announced.
    private func prune(from members: GroupMembers) async {
        var turns = 0
        // Short sleeps: the loop ends soon after the clients close.
        while !clients.isClosed {
            try? await Task.sleep(for: .milliseconds(200))
            turns += 1
            if turns % 25 == 0 { clients.prune(keeping: Set(members.live().compactMap(\.address))) }
        }
    }

    func stop() {
        server.stop()
        clients.shutdown()
    }
}
