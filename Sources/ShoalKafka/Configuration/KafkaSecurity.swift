/// Transport security and authentication for a Kafka connection, passed
/// through to librdkafka.
public struct KafkaSecurity: Sendable, Hashable {
    /// `security.protocol`.
    public enum TransportProtocol: String, Sendable, Hashable {
        case plaintext = "plaintext"
        case ssl = "ssl"
        case saslPlaintext = "sasl_plaintext"
        case saslSSL = "sasl_ssl"
    }

    /// SASL credentials.
    public struct SASL: Sendable, Hashable {
        /// `sasl.mechanisms`, such as `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
        public var mechanism: String
        public var username: String
        public var password: String

        public init(mechanism: String, username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }

    /// TLS material, as PEM file paths.
    public struct TLS: Sendable, Hashable {
        public var caLocation: String?
        public var certificateLocation: String?
        public var keyLocation: String?
        public var keyPassword: String?
        /// Whether the broker's host name must match its certificate.
        public var verifyHostname: Bool

        public init(
            caLocation: String? = nil, certificateLocation: String? = nil,
            keyLocation: String? = nil, keyPassword: String? = nil,
            verifyHostname: Bool = true
        ) {
            self.caLocation = caLocation
            self.certificateLocation = certificateLocation
            self.keyLocation = keyLocation
            self.keyPassword = keyPassword
            self.verifyHostname = verifyHostname
        }
    }

    public var transport: TransportProtocol
    public var sasl: SASL?
    public var tls: TLS?

    public init(transport: TransportProtocol, sasl: SASL? = nil, tls: TLS? = nil) {
        self.transport = transport
        self.sasl = sasl
        self.tls = tls
    }

    /// No encryption, no authentication: the embedded broker and local clusters.
    public static let plaintext = KafkaSecurity(transport: .plaintext)

    var properties: [(String, String)] {
        var result = [("security.protocol", transport.rawValue)]
        if let sasl {
            result += [
                ("sasl.mechanisms", sasl.mechanism),
                ("sasl.username", sasl.username),
                ("sasl.password", sasl.password),
            ]
        }
        if let tls {
            if let value = tls.caLocation { result.append(("ssl.ca.location", value)) }
            if let value = tls.certificateLocation { result.append(("ssl.certificate.location", value)) }
            if let value = tls.keyLocation { result.append(("ssl.key.location", value)) }
            if let value = tls.keyPassword { result.append(("ssl.key.password", value)) }
            result.append(("ssl.endpoint.identification.algorithm", tls.verifyHostname ? "https" : "none"))
        }
        return result
    }
}
