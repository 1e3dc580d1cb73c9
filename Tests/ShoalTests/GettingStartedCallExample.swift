// The second example of Sources/Shoal/Shoal.docc/GettingStarted.md (a
// remote call), compiled as part of the tests: the article shows the part
// between the markers verbatim.
import Logging
import Shoal
import Testing

// example:begin
/// A node that serves calls: other nodes and clients reach its entities here.
func runCallableThermometerNode(brokers: [String], data: String, secret: CallSecret) async throws {
    var configuration = ShoalNodeConfiguration(brokers: brokers, group: "thermometers", dataDirectory: data)
    configuration.calls.listen = .init(host: "0.0.0.0", port: 7070)
    configuration.calls.secret = secret
    let node = ShoalNode(configuration: configuration, topology: thermometers, logger: Logger(label: "thermometers"))
    try await node.run()
}

/// Any process (an HTTP API, a script, another node) asks one thermometer:
/// the call runs on the node that owns the key, after the readings before it.
func printHottest(of thermometer: String, brokers: [String], secret: CallSecret) async throws {
    let client = try ShoalClient(
        configuration: .init(brokers: brokers, group: "thermometers", secret: secret),
        topology: thermometers, logger: Logger(label: "client")
    )
    try await client.withRunning {
        let reference = try Thermometer.reference(key: thermometer, in: client.actorSystem)
        print(try await reference.hottest())
    }
}
// example:end

@Test func theGettingStartedArticleShowsItsCallExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "Sources/Shoal/Shoal.docc/GettingStarted.md")
}
