import Foundation
import ShoalKafka
import Testing

@Suite("shoal broker command")
struct BrokerCommandTests {
    @Test(.timeLimit(.minutes(2)))
    func printsItsAddressServesMetadataAndStopsOnSIGTERM() async throws {
        let directory = try temporaryDirectory()
        let addressFile = directory.appendingPathComponent("address")
        let broker = try ChildProcess(
            executable: "shoal",
            arguments: ["broker", "--brokers", "2", "--topic", "orders:4", "--topic", "payments:8", "--address-file", addressFile.path],
            directory: directory, name: "broker"
        )
        #expect(await eventually(timeout: .seconds(30)) { !completeLines(of: broker.outputURL).isEmpty })
        let address = String(try #require(completeLines(of: broker.outputURL).first))
        #expect(address.contains("127.0.0.1:"))
        #expect(try String(contentsOf: addressFile, encoding: .utf8) == address + "\n")

        // Any Kafka client sees both brokers and the topics.
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [address])), logger: testLogger)
        let metadata = try await producer.awaitConnection(timeout: .seconds(10))
        #expect(metadata.brokers.count == 2)
        #expect(metadata.topics["orders"] == 4)
        #expect(metadata.topics["payments"] == 8)

        broker.terminate()
        #expect(await broker.waitForExit(timeout: .seconds(30)) == 0)
    }

    static let kcat = ["/usr/bin/kcat", "/usr/local/bin/kcat"].first(where: FileManager.default.isExecutableFile)

    @Test(.timeLimit(.minutes(1)), .enabled(if: kcat != nil, "kcat is not installed; the test command installs it"))
    func listsWithKcat() async throws {
        let kcat = try #require(Self.kcat)
        let directory = try temporaryDirectory()
        let broker = try ChildProcess(executable: "shoal", arguments: ["broker", "--topic", "events:3"], directory: directory, name: "broker")
        defer { broker.terminate() }
        #expect(await eventually(timeout: .seconds(30)) { !completeLines(of: broker.outputURL).isEmpty })
        let address = String(try #require(completeLines(of: broker.outputURL).first))
        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: kcat)
        listing.arguments = ["-L", "-b", address, "-m", "10"]
        let pipe = Pipe()
        listing.standardOutput = pipe
        try listing.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        listing.waitUntilExit()
        #expect(listing.terminationStatus == 0)
        #expect(output.contains("topic \"events\" with 3 partitions"))
    }

    @Test(.timeLimit(.minutes(1)), arguments: [
        (["broker", "--topic", "orders"], "NAME:PARTITIONS"),
        (["broker", "--brokers", "0"], "--brokers"),
        (["broker", "--log-level", "loud"], "--log-level"),
    ])
    func badFlagsNameTheSetting(arguments: [String], named: String) async throws {
        let directory = try temporaryDirectory()
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("shoal")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.currentDirectoryURL = directory
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.contains(named))
    }
}
