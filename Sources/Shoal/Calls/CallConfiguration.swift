/// How a node serves calls from other nodes and clients, and how calls
/// travel: part of ``ShoalNodeConfiguration`` and of ``ShoalClient``'s
/// configuration.
public struct CallConfiguration: Sendable {
    /// A `host:port` to listen on; port 0 picks a free port.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port` (`[v6]:port` for an IPv6 address).
        /// - Throws: ``ShoalError`` with code `configuration`, naming `setting`.
        public init(parsing text: String, setting: String) throws {
            let invalid = ShoalError(code: .configuration, reason: "\(setting) \(text): expected HOST:PORT with a port from 0 to 65535")
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
                throw invalid
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw invalid }
            self.init(host: host, port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Where the node serves calls; nil: it serves none, and calls for
    /// keys it does not own fail.
    public var listen: Endpoint?
    /// The address other processes reach it at, announced on the members
    /// topic; nil: the listening address (with its real port).
    public var advertise: Endpoint?
    /// The group's shared secret; required to serve or send calls.
    public var secret: CallSecret?
    /// How long a call may take, moves of its key's partition included,
    /// before it fails with `timedOut`.
    public var timeout: Duration
    /// The largest call or reply, in bytes; larger ones are refused.
    public var maxMessageBytes: Int

    public init(
        listen: Endpoint? = nil, advertise: Endpoint? = nil, secret: CallSecret? = nil, timeout: Duration = .seconds(10),
        maxMessageBytes: Int = 4 << 20
    ) {
        self.listen = listen
        self.advertise = advertise
        self.secret = secret
        self.timeout = timeout
        self.maxMessageBytes = maxMessageBytes
    }
}
