import CRdKafka
import Logging
import Synchronization

/// What librdkafka's C callbacks reach through their opaque pointer. One per
/// client, retained by the client for as long as its handle lives.
final class RDKafkaContext: Sendable {
    typealias RebalanceHandler = @Sendable (
        OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) -> Void
    typealias DeliveryHandler = @Sendable (UnsafePointer<rd_kafka_message_t>) -> Void

    let logger: Logger
    let onRebalance: RebalanceHandler?
    let onDelivery: DeliveryHandler?
    let onError: (@Sendable (KafkaError) -> Void)?
    /// Told librdkafka's consumer-group join state on every change (read from
    /// its `cgrp` debug log, which the consumer always enables).
    let onJoinState: (@Sendable (String) -> Void)?
    /// Whether librdkafka's debug-level lines reach the logger (only when the
    /// application asked for debug contexts).
    let forwardsDebug: Bool
    /// The last error librdkafka reported for the whole client.
    private let lastError = Mutex<KafkaError?>(nil)

    init(
        logger: Logger,
        onRebalance: RebalanceHandler? = nil,
        onDelivery: DeliveryHandler? = nil,
        onError: (@Sendable (KafkaError) -> Void)? = nil,
        onJoinState: (@Sendable (String) -> Void)? = nil,
        forwardsDebug: Bool = true
    ) {
        self.logger = logger
        self.onRebalance = onRebalance
        self.onDelivery = onDelivery
        self.onError = onError
        self.onJoinState = onJoinState
        self.forwardsDebug = forwardsDebug
    }

    var latestError: KafkaError? { lastError.withLock { $0 } }

    func record(_ error: KafkaError) {
        lastError.withLock { $0 = error }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> RDKafkaContext? {
        opaque.map { Unmanaged<RDKafkaContext>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Installs the C trampolines on `config`; they find this context through
    /// the configuration's opaque pointer.
    func install(on config: RDKafkaConfig, opaque: UnsafeMutableRawPointer) {
        let conf = config.unsafeHandle
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogTrampoline)
        rd_kafka_conf_set_error_cb(conf, rdKafkaErrorTrampoline)
        if onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf, rdKafkaRebalanceTrampoline)
        }
        if onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf, rdKafkaDeliveryTrampoline)
        }
    }
}

private func rdKafkaLogTrampoline(
    _ client: OpaquePointer?, _ level: Int32,
    _ facility: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?
) {
    guard let client, let context = RDKafkaContext.from(rd_kafka_opaque(client)) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let source = facility.map { String(cString: $0) } ?? ""
    if source == "CGRPJOINSTATE", let state = joinState(in: text) {
        context.onJoinState?(state)
    }
    let syslogDebug: Int32 = 7
    guard level < syslogDebug || context.forwardsDebug else { return }
    context.logger.log(level: Logger.Level(syslog: level), "\(text)", metadata: ["rdkafka": "\(source)"])
}

/// The new state in `Group "g" changed join state steady -> wait-join (state up)`.
private func joinState(in line: String) -> String? {
    guard let arrow = line.range(of: " -> ") else { return nil }
    let state = line[arrow.upperBound...].prefix { $0 != " " }
    return state.isEmpty ? nil : String(state)
}

private func rdKafkaErrorTrampoline(
    _ client: OpaquePointer?, _ code: Int32,
    _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let context = RDKafkaContext.from(opaque) else { return }
    let error = rd_kafka_resp_err_t(rawValue: code)
    let text = reason.map { String(cString: $0) } ?? ""
    let wrapped = KafkaError.rdKafka(error, text)
    context.record(wrapped)
    context.logger.warning("Kafka client error", metadata: ["error": "\(wrapped)"])
    context.onError?(wrapped)
}

private func rdKafkaRebalanceTrampoline(
    _ client: OpaquePointer?, _ error: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let client, let partitions, let context = RDKafkaContext.from(opaque) else { return }
    context.onRebalance?(client, error, partitions)
}

private func rdKafkaDeliveryTrampoline(
    _ client: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let context = RDKafkaContext.from(opaque) else { return }
    context.onDelivery?(message)
}

extension Logger.Level {
    /// Maps a syslog severity (librdkafka's log levels) onto swift-log.
    init(syslog level: Int32) {
        switch level {
        case ...3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
