import Distributed
import Foundation
import Logging
import Shoal
import Testing

// The example of docs/calling-entities.md, compiled as part of the tests.
// Keep the lines between the markers identical to the article's code block
// (`theCallsArticleShowsTheCompiledExample` checks it).

// example:begin
/// Thrown by `withdraw`; `Codable`, so a caller on another node catches it as itself.
struct InsufficientFunds: Error, Codable {
    var balance: Int
}

struct Deposit: Codable, Sendable {
    var account: String
    var amount: Int
}

struct LimitRaised: Codable, Sendable {
    var limit: Int
}

distributed actor Wallet: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var balance = 0
        var limit = 0
    }
    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ deposit: Deposit, in context: EntityContext) {
        state.balance += deposit.amount
    }

    /// Callable from any node or client: runs in the wallet's turn, after
    /// the deposits that came before the call.
    distributed func balance() -> Int {
        state.balance
    }

    distributed func check(canPay amount: Int) throws -> Bool {
        guard amount <= state.balance else { throw InsufficientFunds(balance: state.balance) }
        return true
    }

    /// Changes the state and emits through the call's own context: both
    /// commit with the call before its reply, as an event's would.
    distributed func raise(limit: Int) throws -> Int {
        state.limit = limit
        try EntityContext.current?.emit(topic: "wallet-limits", key: id.key, value: LimitRaised(limit: limit))
        return limit
    }
}

/// A process that is not a node (an HTTP API, a script) asks a wallet.
func printBalance(of account: String, brokers: [String], secret: CallSecret, logger: Logger) async throws {
    var topology = Topology()
    topology.route(topic: "deposits", to: Wallet.self, key: .field(\Deposit.account))
    let client = try ShoalClient(
        configuration: .init(brokers: brokers, group: "wallets", secret: secret), topology: topology, logger: logger
    )
    try await client.withRunning {
        let wallet = try Wallet.reference(key: account, in: client.actorSystem)
        print(try await wallet.balance())
        do {
            _ = try await wallet.check(canPay: 1_000)
        } catch let error as InsufficientFunds {
            print("short by \(1_000 - error.balance)")
        }
    }
}
// example:end

@Test func theCallsArticleShowsTheCompiledExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "docs/calling-entities.md")
}
