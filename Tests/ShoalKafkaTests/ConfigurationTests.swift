import ShoalKafka
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test func rejectedRawPropertyIsNamed() throws {
        var client = KafkaClientConfiguration(bootstrapServers: ["127.0.0.1:9"])
        client.rawProperties = ["session.timeout.ms": "soon"]
        let error = #expect(throws: KafkaError.self) {
            try KafkaConsumer(configuration: .init(client: client, groupID: "g", topics: ["t"]), logger: testLogger)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason.contains("session.timeout.ms") == true)
        #expect(error?.reason.contains("soon") == true)
    }

    @Test func unknownPropertyIsNamed() throws {
        let client = KafkaClientConfiguration(bootstrapServers: ["127.0.0.1:9"], rawProperties: ["no.such.setting": "1"])
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: .init(client: client), logger: testLogger)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason.contains("no.such.setting") == true)
    }

    @Test func invalidTypedSettingIsNamedWithLibrdkafkasReason() throws {
        let configuration = KafkaProducerConfiguration(
            client: .init(bootstrapServers: ["127.0.0.1:9"]), compression: "zip"
        )
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: configuration, logger: testLogger)
        }
        #expect(error?.reason.contains("compression.type") == true)
        #expect(error?.reason.contains("zip") == true)
    }

    @Test func consumerNeedsTopicsAndOrderedWatermarks() throws {
        let client = KafkaClientConfiguration(bootstrapServers: ["127.0.0.1:9"])
        #expect(throws: KafkaError.self) {
            try KafkaConsumer(configuration: .init(client: client, groupID: "g", topics: []), logger: testLogger)
        }
        var configuration = KafkaConsumerConfiguration(client: client, groupID: "g", topics: ["t"])
        configuration.fetch.bufferLowWatermark = configuration.fetch.bufferHighWatermark
        let error = #expect(throws: KafkaError.self) {
            try KafkaConsumer(configuration: configuration, logger: testLogger)
        }
        #expect(error?.reason.contains("bufferLowWatermark") == true)
    }

    @Test func topicSpecificationsParse() throws {
        let topic = try EmbeddedBroker.Topic(parsing: "payments:8")
        #expect(topic == EmbeddedBroker.Topic(name: "payments", partitions: 8))
        let changelog = try EmbeddedBroker.Topic(parsing: "fraud-state:8:cleanup.policy=compact,min.insync.replicas=2")
        #expect(changelog.configs == ["cleanup.policy": "compact", "min.insync.replicas": "2"])
        #expect(changelog.description == "fraud-state:8:cleanup.policy=compact,min.insync.replicas=2", "prints as it parses")
        for bad in ["payments", "payments:", ":8", "payments:0", "payments:x", "a:1:2"] {
            let error = #expect(throws: KafkaError.self) { try EmbeddedBroker.Topic(parsing: bad) }
            #expect(error?.reason.contains("NAME:PARTITIONS") == true)
        }
    }

    @Test func securitySettingsPassThrough() throws {
        // SASL over TLS with credentials: librdkafka accepts the whole set.
        let security = KafkaSecurity(
            transport: .saslSSL,
            sasl: .init(mechanism: "SCRAM-SHA-512", username: "user", password: "secret"),
            tls: .init(verifyHostname: false)
        )
        let client = KafkaClientConfiguration(bootstrapServers: ["127.0.0.1:9"], security: security)
        _ = try KafkaProducer(configuration: .init(client: client), logger: testLogger)
    }
}
